namespace Slipway.Tester.Smoke;

/// <summary>
/// The only request targets the smoke step sends: a relative path (and query) on the service under test. The
/// paths come from the service's own OpenAPI spec and from the repository's <c>config.yaml</c> — both written
/// by the uploader — and are joined to the service's address as text, so a path such as
/// <c>@127.0.0.2:9/x</c> or <c>//127.0.0.2:9/</c> would otherwise name another host. Rules: the path starts
/// with one <c>/</c>, is printable ASCII as written (no whitespace, CR/LF or Unicode look-alikes: percent-encode
/// them) and has no <c>#</c>; and, as written and after percent-decoding (repeatedly, so <c>%252f</c> counts as
/// <c>/</c>), it has no <c>//</c>, <c>\</c>, <c>@</c>, <c>..</c> segment or control character. The query (after
/// the first <c>?</c>) cannot change where the request goes; it must be printable ASCII without <c>#</c> or <c>\</c>.
/// The joined URI is then parsed and must name exactly the service's scheme, host and port with no user info.
/// </summary>
public static class RequestPath
{
    public const int MaxLength = 2048;

    private const int DecodeRounds = 4; // %25 nested deeper than this is refused rather than decoded further

    /// <summary>Null when <paramref name="pathAndQuery"/> is a relative request path; otherwise why it is not.</summary>
    public static string? Problem(string? pathAndQuery)
    {
        if (string.IsNullOrEmpty(pathAndQuery)) return "the path is empty";
        if (pathAndQuery.Length > MaxLength) return $"the path is longer than {MaxLength} characters";
        foreach (var c in pathAndQuery)
            if (c is < '!' or > '~') return $"the path contains {Describe(c)}; only printable ASCII is allowed (percent-encode the rest)";

        var queryAt = pathAndQuery.IndexOf('?');
        var path = queryAt < 0 ? pathAndQuery : pathAndQuery[..queryAt];
        var query = queryAt < 0 ? "" : pathAndQuery[queryAt..];
        if (query.IndexOfAny(['#', '\\']) >= 0) return "the query contains '#' or '\\'";
        if (!path.StartsWith('/')) return "the path must start with '/' (a relative path on the service, no scheme or host)";

        var text = path;
        for (var round = 0; ; round++)
        {
            if (PathProblem(text, decoded: round > 0) is { } problem) return problem;
            if (!text.Contains('%')) return null;
            if (round == DecodeRounds) return "the path is percent-encoded too many times over";
            var next = Uri.UnescapeDataString(text);
            if (next == text) return null; // only invalid escapes left: they decode to nothing
            text = next;
        }
    }

    private static string? PathProblem(string path, bool decoded)
    {
        var how = decoded ? " (after percent-decoding)" : "";
        // An encoded space or '#' is fine (a title may hold one); what could end the request line or name a host is not.
        foreach (var c in path)
            if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085') return $"the path contains {Describe(c)}{how}";
        if (path.Contains("//", StringComparison.Ordinal)) return $"the path contains '//'{how}, which could name another host";
        if (path.Contains('\\')) return $"the path contains '\\'{how}";
        if (path.Contains('@')) return $"the path contains '@'{how}, which could name another host";
        if (!decoded && path.Contains('#')) return "the path contains '#'";
        if (path.Split('/').Any(segment => segment == "..")) return $"the path contains a '..' segment{how}";
        return null;
    }

    /// <summary>
    /// The absolute URI of <paramref name="pathAndQuery"/> on <paramref name="service"/>, or a
    /// <see cref="RefusedRequestException"/> when the path breaks a rule or the URI would name anything else.
    /// </summary>
    public static Uri On(Uri service, string pathAndQuery)
    {
        if (Problem(pathAndQuery) is { } problem) throw new RefusedRequestException($"refused {Show(pathAndQuery)}: {problem}");
        var text = service.GetLeftPart(UriPartial.Authority) + service.AbsolutePath.TrimEnd('/') + pathAndQuery;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) throw new RefusedRequestException($"refused {Show(pathAndQuery)}: not a valid URI");
        if (!IsOn(service, uri))
            throw new RefusedRequestException($"refused {Show(pathAndQuery)}: it would go to {uri.GetLeftPart(UriPartial.Authority)}, not the service at {service.GetLeftPart(UriPartial.Authority)}");
        return uri;
    }

    /// <summary>Same scheme, host and port, and no user info.</summary>
    public static bool IsOn(Uri service, Uri uri) =>
        uri.IsAbsoluteUri
        && uri.Scheme == service.Scheme
        && string.Equals(uri.IdnHost, service.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == service.Port
        && uri.UserInfo.Length == 0;

    /// <summary>The path as quoted in a message: control characters made visible, long ones cut.</summary>
    public static string Show(string? path)
    {
        if (path is null) return "''";
        var shown = new string(path.Take(200).Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? '?' : c).ToArray());
        return "'" + shown + (path.Length > 200 ? "…" : "") + "'";
    }

    private static string Describe(char c) => c switch
    {
        ' ' => "a space",
        '\r' => "CR",
        '\n' => "LF",
        '\t' => "a tab",
        _ => $"U+{(int)c:X4}",
    };
}
