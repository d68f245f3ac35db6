namespace Slipway.Tester.Smoke;

/// <summary>
/// Which <c>x-amples</c> request headers (written by the uploader) the smoke step sends: a token name, a value
/// without control characters, bounded sizes, and none of the headers that address or frame the request —
/// <c>Host</c>, <c>Content-Length</c>, <c>Transfer-Encoding</c>, <c>Connection</c>, <c>Upgrade</c>, <c>TE</c>,
/// <c>Proxy-*</c> — which the smoke step sets itself.
/// </summary>
public static class RequestHeaders
{
    public const int MaxNameLength = 256;
    public const int MaxValueLength = 8192;

    private static readonly HashSet<string> SetByTheStep = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "TE", "Keep-Alive", "Trailer",
    };

    /// <summary>Null when the header may be sent; otherwise why not.</summary>
    public static string? Problem(string name, string? value)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength) return $"a header name must have 1 to {MaxNameLength} characters";
        if (!name.All(IsTokenChar)) return "the name is not an HTTP token";
        if (SetByTheStep.Contains(name) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase)) return "the smoke step sets this header itself";
        if (value is null) return null;
        if (value.Length > MaxValueLength) return $"the value is longer than {MaxValueLength} characters";
        if (value.Any(c => c != '\t' && (c < ' ' || c == '\u007f' || c > '\u00ff'))) return "the value contains a control character or a character outside Latin-1";
        return null;
    }

    // RFC 9110 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~"
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
