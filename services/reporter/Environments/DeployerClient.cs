using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Slipway.Reporter.Environments;

/// <summary>
/// The deployer's documented approve and rollback API (docs/operations.md), called on behalf of the person using the
/// environments page with the API token they typed. The token goes into this one request's Authorization header and
/// nowhere else: not stored, not logged (the client has no request loggers), not echoed back.
/// </summary>
public sealed class DeployerClient(HttpClient http)
{
    /// <summary>What the deployer answered: its status and its <c>error</c> (or a summary of a success).</summary>
    public sealed record Answer(HttpStatusCode Status, string Message)
    {
        public bool Ok => (int)Status is >= 200 and < 300;
    }

    public Task<Answer> ApproveAsync(string runId, string environment, string token, CancellationToken ct) =>
        PostAsync($"api/runs/{Uri.EscapeDataString(runId)}/approve?environment={Uri.EscapeDataString(environment)}", token, ct);

    /// <param name="requestKey">The form's request key (the deployer's Idempotency-Key): the same form sent twice rolls back once.</param>
    public Task<Answer> RollBackAsync(string service, string environment, bool allAtOnce, string? requestKey, string token, CancellationToken ct) =>
        PostAsync($"api/services/{Uri.EscapeDataString(service)}/rollback?environment={Uri.EscapeDataString(environment)}" +
                  (allAtOnce ? "&allAtOnce=true" : ""), token, ct, requestKey);

    private async Task<Answer> PostAsync(string path, string token, CancellationToken ct, string? requestKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (requestKey is { Length: > 0 }) request.Headers.TryAddWithoutValidation("Idempotency-Key", requestKey);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var body = await ReadBoundedAsync(response, ct);
            return new Answer(response.StatusCode, Describe(response.StatusCode, body));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new Answer(HttpStatusCode.BadGateway, $"the deployer did not answer ({e.GetType().Name}); what it had taken goes on there: " +
                "look at the environment before trying again (the same form sent again is the same request)");
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        const int max = 64 * 1024;
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[max];
        var read = 0;
        while (read < max && await stream.ReadAsync(buffer.AsMemory(read, max - read), ct) is > 0 and var n) read += n;
        return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>The deployer's own words: its <c>error</c>, or for a success what was done.</summary>
    private static string Describe(HttpStatusCode status, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                return error.GetString()!;
            if ((int)status is >= 200 and < 300 && root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("approvedBy", out var by))
                    return $"approved by {by.GetString()}: the rollout starts now";
                if (root.TryGetProperty("to", out var to))
                    return $"rolled back to {to.GetString()}";
                if (root.TryGetProperty("state", out var state) && state.GetString() == "running")
                    return "the rollback goes on in the deployer; this page shows its result once it has ended";
            }
        }
        catch (JsonException) { }
        return $"the deployer answered {(int)status} {status}";
    }
}
