using System.Text.Json.Nodes;

namespace Slipway.Tester.Smoke;

/// <summary>
/// One request of the service-checker contract: an <c>x-amples</c> entry of a path's <c>get</c> or <c>post</c>
/// in the service's OpenAPI spec (or the default "GET answers 200" for a GET without x-amples).
/// </summary>
public sealed record ServiceCheckCase
{
    /// <summary>"GET" or "POST".</summary>
    public required string Method { get; init; }

    /// <summary>The spec's path template, e.g. <c>/hello/{name}</c>.</summary>
    public required string PathTemplate { get; init; }

    /// <summary>The x-ample's <c>title</c>, if any.</summary>
    public string? Title { get; init; }

    /// <summary>URL template parameters (<c>request.params</c>) over the spec's <c>x-default-params</c>.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Params { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary><c>request.query</c> (for GET) sent as the query string.</summary>
    public JsonObject? Query { get; init; }

    /// <summary><c>request.headers</c>.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary><c>request.body</c> (for POST).</summary>
    public JsonNode? Body { get; init; }

    /// <summary>The expected <c>response</c>.</summary>
    public required ExpectedResponse Expected { get; init; }

    /// <summary>How the check is named in results: <c>GET /hello/{name}: greets by name</c>.</summary>
    public string Name => Title is { Length: > 0 } t ? $"{Method} {PathTemplate}: {t}" : $"{Method} {PathTemplate}";
}

/// <summary>An x-ample's <c>response</c>: status (default 200), headers and body to match.</summary>
public sealed record ExpectedResponse
{
    public int Status { get; init; } = 200;

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Null: the body is not checked.</summary>
    public JsonNode? Body { get; init; }
}
