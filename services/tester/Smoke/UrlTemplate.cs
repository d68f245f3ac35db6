using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Slipway.Tester.Smoke;

/// <summary>
/// The subset of RFC 6570 the service-checker contract uses: <c>{name}</c> (simple), <c>{/name}</c> (optional
/// segment: "/value", or nothing when absent) and <c>{+name}</c> (a list joined with "/"). A parameter with
/// no value becomes empty, as in the reference checker.
/// </summary>
public static partial class UrlTemplate
{
    [GeneratedRegex(@"\{(.+?)\}")]
    private static partial Regex Token();

    public static string Realize(string template, IReadOnlyDictionary<string, JsonNode?> parameters) =>
        Token().Replace(template, match =>
        {
            var key = match.Groups[1].Value;
            var optional = key.StartsWith('/');
            if (optional) key = key[1..];
            var multiple = key.StartsWith('+');
            if (multiple) key = key[1..];
            if (!parameters.TryGetValue(key, out var value) || value is null) return "";

            var text = value is JsonArray list
                ? string.Join(multiple ? "/" : ",", list.Select(v => Uri.EscapeDataString(Scalar(v))))
                : Uri.EscapeDataString(Scalar(value));
            return optional ? "/" + text : text;
        });

    /// <summary>A JSON value as the text a URL or comparison uses (strings unquoted).</summary>
    public static string Scalar(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    /// <summary>A query string from <c>request.query</c>: arrays repeat the key.</summary>
    public static string Query(JsonObject? query)
    {
        if (query is null || query.Count == 0) return "";
        var sb = new StringBuilder();
        foreach (var (key, value) in query)
            foreach (var item in value is JsonArray array ? array.ToArray() : [value])
                sb.Append(sb.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(Scalar(item)));
        return sb.ToString();
    }
}
