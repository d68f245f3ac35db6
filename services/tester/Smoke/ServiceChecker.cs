using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Slipway.Contracts;

namespace Slipway.Tester.Smoke;

/// <summary>
/// The service-checker contract (Wikimedia's service-checker-swagger): read the service's OpenAPI spec, and for
/// every path's <c>get</c>/<c>post</c> send each <c>x-amples</c> request and match the answer
/// (<see cref="ResponseMatcher"/>). A GET without x-amples is expected to answer 200; an operation with
/// <c>x-monitor: false</c> is skipped; top-level <c>x-default-params</c> fill URL template parameters.
/// Pure apart from the HTTP client it is given, so it is testable against any handler.
/// </summary>
public sealed class ServiceChecker(HttpClient http, TimeSpan requestTimeout, int maxBodyBytes = 4 * 1024 * 1024)
{
    private static readonly string[] Methods = ["get", "post"]; // what the contract supports

    /// <summary>The cases a spec defines, in document order. Throws <see cref="FormatException"/> on a spec that is not one.</summary>
    public static IReadOnlyList<ServiceCheckCase> Parse(string specJson)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(specJson, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"spec is not JSON: {e.Message}", e);
        }
        if (root is not JsonObject spec || spec["paths"] is not JsonObject paths)
            throw new FormatException("spec has no \"paths\" object");

        var defaults = spec["x-default-params"] is JsonObject d ? d.ToDictionary(kv => kv.Key, kv => kv.Value) : [];
        var cases = new List<ServiceCheckCase>();
        foreach (var (path, item) in paths)
        {
            if (string.IsNullOrEmpty(path) || item is not JsonObject operations) continue;
            foreach (var method in Methods)
            {
                if (operations[method] is not JsonObject operation) continue;
                if (operation["x-monitor"] is JsonValue monitor && monitor.GetValueKind() == JsonValueKind.False) continue;

                if (operation["x-amples"] is JsonArray amples)
                {
                    foreach (var ample in amples)
                        if (ample is JsonObject x && x["x-monitor"]?.GetValueKind() != JsonValueKind.False)
                            cases.Add(Case(method, path, x, defaults));
                }
                else if (method == "get")
                {
                    cases.Add(new ServiceCheckCase { Method = "GET", PathTemplate = path, Params = defaults, Expected = new ExpectedResponse() });
                }
            }
        }
        return cases;
    }

    private static ServiceCheckCase Case(string method, string path, JsonObject ample, Dictionary<string, JsonNode?> defaults)
    {
        var request = ample["request"] as JsonObject ?? [];
        var response = ample["response"] as JsonObject ?? [];
        var parameters = new Dictionary<string, JsonNode?>(defaults);
        if (request["params"] is JsonObject p) foreach (var (k, v) in p) parameters[k] = v;

        var status = 200;
        if (response["status"] is JsonValue s && !(s.TryGetValue(out status) || int.TryParse(UrlTemplate.Scalar(s), out status)))
            throw new FormatException($"{method.ToUpperInvariant()} {path}: response.status '{s.ToJsonString()}' is not a number");

        return new ServiceCheckCase
        {
            Method = method.ToUpperInvariant(),
            PathTemplate = path,
            Title = ample["title"] is JsonValue t ? UrlTemplate.Scalar(t) : null,
            Params = parameters,
            Query = method == "get" ? request["query"] as JsonObject : null,
            Headers = StringMap(request["headers"]),
            Body = method == "post" ? request["body"] : null,
            Expected = new ExpectedResponse { Status = status, Headers = StringMap(response["headers"]), Body = response["body"] },
        };
    }

    private static Dictionary<string, string> StringMap(JsonNode? node) =>
        node is JsonObject o ? o.ToDictionary(kv => kv.Key, kv => UrlTemplate.Scalar(kv.Value)) : [];

    /// <summary>
    /// Fetches nothing: runs the cases of <paramref name="specJson"/> against <paramref name="baseUrl"/>. With a
    /// <paramref name="budget"/>, no check starts after it is spent (the rest fail as one check saying so); each
    /// check is bounded by the request timeout, so a service that answers slowly to many checks costs at most
    /// budget + one timeout.
    /// </summary>
    public async Task<IReadOnlyList<SmokeCheck>> RunAsync(Uri baseUrl, string specJson, int maxChecks, CancellationToken ct, TimeSpan? budget = null)
    {
        IReadOnlyList<ServiceCheckCase> cases;
        try
        {
            cases = Parse(specJson);
        }
        catch (FormatException e)
        {
            return [new SmokeCheck { Name = "spec", Passed = false, Detail = Limit(e.Message, 2048) }];
        }
        if (cases.Count > maxChecks)
            return [new SmokeCheck { Name = "spec", Passed = false, Detail = $"spec defines {cases.Count} checks; at most {maxChecks} are allowed" }];

        var stopwatch = Stopwatch.StartNew();
        var checks = new List<SmokeCheck>(cases.Count);
        foreach (var c in cases)
        {
            if (budget is { } limit && stopwatch.Elapsed >= limit)
            {
                checks.Add(new SmokeCheck
                {
                    Name = "checks", Passed = false, DurationMs = stopwatch.ElapsedMilliseconds,
                    Detail = $"stopped after {checks.Count} of {cases.Count} checks: the smoke checks' time limit of {limit.TotalSeconds:0.#}s was reached",
                });
                break;
            }
            checks.Add(await CheckAsync(baseUrl, c, ct).ConfigureAwait(false));
        }
        return checks;
    }

    /// <summary>Sends one case's request and compares the answer.</summary>
    public async Task<SmokeCheck> CheckAsync(Uri baseUrl, ServiceCheckCase check, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        string? detail;
        try
        {
            using var request = BuildRequest(baseUrl, check);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(requestTimeout);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response.Content, maxBodyBytes, timeout.Token).ConfigureAwait(false);
            detail = ResponseMatcher.Difference(check.Expected, (int)response.StatusCode, name => Header(response, name), body);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            detail = $"no answer within {requestTimeout.TotalSeconds:0.#}s";
        }
        catch (RefusedRequestException e)
        {
            detail = e.Message; // never sent
        }
        catch (HttpRequestException e) when (e.InnerException is RefusedRequestException refused)
        {
            detail = refused.Message; // the connection itself was refused (ServiceOnlyHttp)
        }
        catch (HttpRequestException e)
        {
            detail = "request failed: " + e.Message;
        }
        catch (InvalidDataException e)
        {
            detail = e.Message;
        }
        return new SmokeCheck
        {
            Name = Limit(check.Name, 512), Passed = detail is null, Detail = detail is null ? null : Limit(detail, 2048), DurationMs = stopwatch.ElapsedMilliseconds,
        };
    }

    /// <summary>
    /// Reads at most <paramref name="max"/> bytes; a bigger body (announced or sent) is an
    /// <see cref="InvalidDataException"/> naming the limit, not a memory problem.
    /// </summary>
    public static async Task<string> ReadBodyAsync(HttpContent content, int max, CancellationToken ct, string what = "body")
    {
        if (content.Headers.ContentLength is { } announced && announced > max)
            throw new InvalidDataException($"{what}: {announced} bytes announced, larger than the limit of {Size(max)}");
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > max) throw new InvalidDataException($"{what}: larger than the limit of {Size(max)}");
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>"4 MiB", "512 KiB" or "1000 bytes".</summary>
    public static string Size(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} bytes";

    private static HttpRequestMessage BuildRequest(Uri baseUrl, ServiceCheckCase check)
    {
        var path = UrlTemplate.Realize(check.PathTemplate, check.Params);
        var query = check.Method == "GET" ? UrlTemplate.Query(check.Query) : "";
        var request = new HttpRequestMessage(new HttpMethod(check.Method), RequestPath.On(baseUrl, path + query));

        check.Headers.TryGetValue("Content-Type", out var contentType);
        contentType ??= check.Headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
        if (check.Method == "POST" && check.Body is not null)
        {
            request.Content = check.Body switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => new StringContent(v.GetValue<string>(), Encoding.UTF8),
                JsonObject form when contentType is null || !contentType.Contains("json", StringComparison.OrdinalIgnoreCase) =>
                    new FormUrlEncodedContent(form.Select(kv => KeyValuePair.Create(kv.Key, UrlTemplate.Scalar(kv.Value)))),
                _ => new StringContent(check.Body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
        }
        foreach (var (name, value) in check.Headers)
        {
            if (RequestHeaders.Problem(name, value) is { } problem)
            {
                request.Dispose();
                throw new RefusedRequestException($"refused header {RequestPath.Show(name)}: {problem}");
            }
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                if (request.Content is not null && MediaTypeHeaderValue.TryParse(value, out var media)) request.Content.Headers.ContentType = media;
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    private static string Limit(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
