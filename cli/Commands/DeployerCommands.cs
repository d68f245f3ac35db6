using System.CommandLine;
using System.Net.Http.Headers;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway approve RUN --env production` and `slipway rollback SERVICE --env E`: authenticated calls to the
/// deployer's API of the running stack (`slipway up`); the deployer's URL and token come from the stack's
/// stack.json, or from --deployer and SLIPWAY_DEPLOYER_TOKEN for a deployer elsewhere.
/// </summary>
internal static class DeployerCommands
{
    public static Command Approve()
    {
        var run = new Argument<string>("run") { Description = "the run id (shown in Gerrit's comment and on the run page)" };
        var env = new Option<string>("--env") { Description = "the environment to approve", DefaultValueFactory = _ => "production" };
        var (state, deployer) = CommonOptions();
        var command = new Command("approve", "approve a run's rollout to an environment (you must be in Deployer:Approvers)") { run, env, state, deployer };
        command.SetAction(async (parse, ct) => await CallAsync(parse.GetValue(state)!, parse.GetValue(deployer), HttpMethod.Post,
            $"/api/runs/{Uri.EscapeDataString(parse.GetValue(run)!)}/approve?environment={Uri.EscapeDataString(parse.GetValue(env)!)}", ct));
        return command;
    }

    public static Command Rollback()
    {
        var service = new Argument<string>("service") { Description = "the service (the project's last path segment, e.g. hello-service)" };
        var env = new Option<string>("--env") { Description = "the environment", Required = true };
        var allAtOnce = new Option<bool>("--all-at-once") { Description = "move every instance at once instead of in the environment's stages (canary, partial, full)" };
        var (state, deployer) = CommonOptions();
        var command = new Command("rollback",
            "put a service back on the last version deployed before the current one that was not itself rolled back; " +
            "where the environment needs approval, your token must be an approver's")
            { service, env, allAtOnce, state, deployer };
        command.SetAction(async (parse, ct) => await CallAsync(parse.GetValue(state)!, parse.GetValue(deployer), HttpMethod.Post,
            $"/api/services/{Uri.EscapeDataString(parse.GetValue(service)!)}/rollback?environment={Uri.EscapeDataString(parse.GetValue(env)!)}"
            + (parse.GetValue(allAtOnce) ? "&allAtOnce=true" : ""), ct, requestKey: Guid.NewGuid().ToString("N")));
        return command;
    }

    private static (Option<string> State, Option<string?> Deployer) CommonOptions() => (
        new Option<string>("--state") { Description = "state directory of the running stack", DefaultValueFactory = _ => RepoPaths.DefaultStateDir() },
        new Option<string?>("--deployer") { Description = "deployer URL (default: the running stack's)" });

    /// <param name="requestKey">
    /// A rollback's Idempotency-Key: when the deployer does not answer (it restarted, the connection broke) the same request
    /// is sent again a few times, which the deployer answers with the first one's result instead of rolling back again; an
    /// answer of 202 (still running) is followed to its end.
    /// </param>
    private static async Task<int> CallAsync(string stateDir, string? deployerUrl, HttpMethod method, string path, CancellationToken ct,
        string? requestKey = null)
    {
        var stack = PipelineSettings.Load(stateDir);
        var url = deployerUrl ?? stack?.DeployerUrl;
        var token = Environment.GetEnvironmentVariable("SLIPWAY_DEPLOYER_TOKEN") is { Length: > 0 } t ? t : stack?.DeployerToken;
        if (url is null || token is null)
        {
            Console.Error.WriteLine($"no running stack in {stateDir} (start one with `slipway up`), or pass --deployer and set SLIPWAY_DEPLOYER_TOKEN");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        var attempts = requestKey is null ? 1 : 5;
        var followUntil = DateTime.UtcNow.AddHours(1);
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, url.TrimEnd('/') + path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (requestKey is not null) request.Headers.Add("Idempotency-Key", requestKey);
            try
            {
                using var response = await http.SendAsync(request, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode == System.Net.HttpStatusCode.Accepted && requestKey is not null && DateTime.UtcNow < followUntil)
                {
                    Console.Error.WriteLine("the rollback goes on in the deployer; waiting for its end");
                    path = PollPath(body) ?? path;
                    method = HttpMethod.Get;
                    attempt = 0;
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                    continue;
                }
                (response.IsSuccessStatusCode ? Console.Out : Console.Error).WriteLine(body);
                return response.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                if (attempt >= attempts)
                {
                    Console.Error.WriteLine($"the deployer at {url} did not answer: {e.Message}");
                    return 1;
                }
                Console.Error.WriteLine($"the deployer at {url} did not answer ({e.Message}); asking again with the same request");
                await Task.Delay(TimeSpan.FromSeconds(3 * attempt), ct);
            }
        }
    }

    private static string? PollPath(string body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("poll", out var poll) && poll.GetString() is { } p && p.StartsWith("/api/rollbacks/", StringComparison.Ordinal)
                ? p : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
