namespace Slipway.Builder.Building.Egress;

/// <summary>
/// The exact host:port pairs build steps may reach through the proxy. No suffix or wildcard matching: a name is
/// allowed only if it is listed, compared case-insensitively without a trailing dot.
/// </summary>
public sealed class EgressAllowList
{
    private readonly HashSet<string> _entries;

    public EgressAllowList(IEnumerable<(string Host, int Port)> entries) =>
        _entries = entries.Select(e => Key(e.Host, e.Port)).ToHashSet(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Entries => _entries;

    public bool Allows(string host, int port) => Normalize(host) is { } h && _entries.Contains(Key(h, port));

    /// <summary>The allow-list from the configured URLs and, if asked, the machine's apt mirrors.</summary>
    public static EgressAllowList From(BuildEgressOptions options)
    {
        var urls = options.AllowedUrls.AsEnumerable();
        if (options.UseMachineAptSources) urls = urls.Concat(AptMirrorSources.Read(options.AptConfigDir));
        return new EgressAllowList(urls.Select(ParseUrl).OfType<(string, int)>());
    }

    /// <summary>Host and port of an http(s) URL without user info, or null.</summary>
    public static (string Host, int Port)? ParseUrl(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0 || Normalize(uri.IdnHost) is not { } host)
            return null;
        return (host, uri.Port);
    }

    /// <summary>Lower-case host without brackets or a trailing dot; null when it is not a plausible host name.</summary>
    public static string? Normalize(string host)
    {
        var h = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (h.Length is 0 or > 253 || h.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':'))) return null;
        return h;
    }

    private static string Key(string host, int port) => $"{Normalize(host)}:{port}";
}
