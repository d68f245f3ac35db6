namespace Slipway.BuildConfig;

/// <summary>
/// An image reference split as the Docker engine splits it (distribution/reference): the registry is the first
/// path component only when it contains <c>.</c> or <c>:</c>, is <c>localhost</c>, or has upper-case letters;
/// otherwise the image is on Docker Hub (<c>docker.io</c>, <c>library/</c> for one-part names). A registry is a
/// host and an optional port, compared exactly — a string prefix is not a registry.
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>Parses <paramref name="reference"/>, or returns null when it is not a valid image reference.</summary>
    public static ImageReference? TryParse(string reference)
    {
        if (string.IsNullOrEmpty(reference) || !Validators.IsImageRef(reference)) return null;
        string? digest = null;
        var name = reference;
        var at = name.IndexOf('@');
        if (at >= 0) { digest = name[(at + 1)..]; name = name[..at]; }
        string? tag = null;
        var colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/')) { tag = name[(colon + 1)..]; name = name[..colon]; }

        var slash = name.IndexOf('/');
        string registry, repository;
        if (slash > 0 && IsDomain(name[..slash]))
        {
            registry = NormalizeRegistry(name[..slash]);
            repository = name[(slash + 1)..];
        }
        else
        {
            registry = DockerHub;
            repository = name;
        }
        if (registry == DockerHub && !repository.Contains('/')) repository = "library/" + repository;
        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>
    /// An allowed-registry entry as configured: <c>host</c>, <c>host:port</c>, or a URL (<c>https://host:port/</c>),
    /// normalised to <c>host[:port]</c> with the host in lower case. Null when it is not one.
    /// </summary>
    public static string? NormalizeRegistryEntry(string entry)
    {
        var s = entry.Trim();
        var scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) s = s[(scheme + 3)..];
        s = s.TrimEnd('/');
        if (s.Length == 0 || s.Contains('/') || s.Contains('@') || !Validators.IsImageRef(s + "/x")) return null;
        return NormalizeRegistry(s);
    }

    /// <summary>Whether this image comes from <paramref name="registry"/> (a normalised <c>host[:port]</c>): equal host, equal port.</summary>
    public bool IsFrom(string registry) => string.Equals(Registry, registry, StringComparison.Ordinal);

    public override string ToString() =>
        (Registry == DockerHub ? "" : Registry + "/") + Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    private static bool IsDomain(string first) =>
        first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsAsciiLetterUpper);

    private static string NormalizeRegistry(string hostPort)
    {
        var lower = hostPort.ToLowerInvariant(); // host names are case-insensitive; ports are digits
        return lower is "index.docker.io" or "registry-1.docker.io" ? DockerHub : lower;
    }
}
