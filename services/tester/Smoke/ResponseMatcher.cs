using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Slipway.Tester.Smoke;

/// <summary>
/// The service-checker matching rules, and the difference named when they fail:
/// <list type="bullet">
/// <item>status: equal.</item>
/// <item>each expected header: present, and its value matches; a value written <c>/like this/</c> is a regular
/// expression searched in the actual value, otherwise the actual value equals it or starts with it (the reference
/// checker's rule, so <c>application/json</c> matches <c>application/json; charset=utf-8</c>).</item>
/// <item>body, when given: an object or array is matched against the JSON response recursively — every expected
/// key must be present and match, array items match by position (extra actual keys and items are fine); a
/// leaf written <c>/like this/</c> is a regex searched in the actual value's text, any other leaf must be equal.
/// A string body is matched the same way against the whole response text.</item>
/// </list>
/// </summary>
public static class ResponseMatcher
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1); // the pattern comes from an untrusted spec

    /// <summary>Null when the response matches; otherwise the first difference, e.g. <c>status: expected 200, got 500</c>.</summary>
    public static string? Difference(ExpectedResponse expected, int status, Func<string, string?> header, string body)
    {
        if (status != expected.Status) return $"status: expected {expected.Status}, got {status}";

        foreach (var (name, want) in expected.Headers)
        {
            var got = header(name);
            if (got is null) return $"header {name}: expected {Show(want)}, got nothing (missing)";
            if (!MatchesHeader(want, got)) return $"header {name}: expected {Show(want)}, got {Quote(got)}";
        }

        if (expected.Body is null) return null;
        if (expected.Body is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var want = v.GetValue<string>();
            return MatchesLeaf(want, body) ? null : $"body: expected {Show(want)}, got {Quote(Shorten(body))}";
        }

        JsonNode? actual;
        try
        {
            actual = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return $"body: expected JSON, got {Quote(Shorten(body))}";
        }
        return JsonDifference(expected.Body, actual, "body");
    }

    /// <summary>Null when <paramref name="actual"/> has everything <paramref name="expected"/> asks for.</summary>
    public static string? JsonDifference(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case JsonObject wantObject:
                if (actual is not JsonObject gotObject) return $"{path}: expected an object, got {Describe(actual)}";
                foreach (var (key, want) in wantObject)
                {
                    var childPath = $"{path}.{key}";
                    if (!gotObject.TryGetPropertyValue(key, out var got)) return $"{childPath}: expected {ShowJson(want)}, got nothing (missing)";
                    if (JsonDifference(want, got, childPath) is { } difference) return difference;
                }
                return null;

            case JsonArray wantArray:
                if (actual is not JsonArray gotArray) return $"{path}: expected an array, got {Describe(actual)}";
                for (var i = 0; i < wantArray.Count; i++)
                {
                    var childPath = $"{path}[{i}]";
                    if (i >= gotArray.Count) return $"{childPath}: expected {ShowJson(wantArray[i])}, got nothing (the array has {gotArray.Count} items)";
                    if (JsonDifference(wantArray[i], gotArray[i], childPath) is { } difference) return difference;
                }
                return null;

            case JsonValue wantValue when wantValue.GetValueKind() == JsonValueKind.String:
                var wantText = wantValue.GetValue<string>();
                if (actual is JsonObject or JsonArray) return $"{path}: expected {Show(wantText)}, got {Describe(actual)}";
                return MatchesLeaf(wantText, UrlTemplate.Scalar(actual)) && (IsRegex(wantText) || actual is JsonValue s && s.GetValueKind() == JsonValueKind.String)
                    ? null
                    : $"{path}: expected {Show(wantText)}, got {Describe(actual)}";

            default: // number, boolean or null: equal as JSON values (1 and 1.0 are equal)
                return JsonEquals(expected, actual) ? null : $"{path}: expected {ShowJson(expected)}, got {Describe(actual)}";
        }
    }

    /// <summary>True for a value written <c>/like this/</c>: a regular expression.</summary>
    public static bool IsRegex(string value) => value.Length >= 2 && value[0] == '/' && value[^1] == '/';

    /// <summary>A body leaf or text body: regex search, or exact equality.</summary>
    public static bool MatchesLeaf(string expected, string actual) =>
        IsRegex(expected) ? RegexSearch(expected, actual) : actual == expected;

    /// <summary>A header value: regex search, or equal/starting with the expected value.</summary>
    public static bool MatchesHeader(string expected, string actual) =>
        IsRegex(expected) ? RegexSearch(expected, actual) : actual.StartsWith(expected, StringComparison.Ordinal);

    private static bool RegexSearch(string slashed, string actual)
    {
        try
        {
            return Regex.IsMatch(actual, slashed[1..^1], RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (Exception e) when (e is ArgumentException or RegexMatchTimeoutException)
        {
            return false; // an invalid or runaway pattern never matches; the detail shows the pattern
        }
    }

    private static bool JsonEquals(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a is JsonValue va && b is JsonValue vb && va.GetValueKind() == JsonValueKind.Number && vb.GetValueKind() == JsonValueKind.Number)
            return decimal.TryParse(va.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var da)
                && decimal.TryParse(vb.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var db)
                ? da == db
                : va.ToJsonString() == vb.ToJsonString();
        return JsonNode.DeepEquals(a, b);
    }

    private static string Show(string expected) => IsRegex(expected) ? expected : Quote(expected);

    private static string ShowJson(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? Show(v.GetValue<string>()) : Shorten(node?.ToJsonString() ?? "null");

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object " + Shorten(node.ToJsonString()),
        JsonArray => "an array " + Shorten(node.ToJsonString()),
        _ => Shorten(node.ToJsonString()),
    };

    private static string Quote(string text) => JsonSerializer.Serialize(text, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
