using System.Security.Cryptography;
using System.Text;
using Slipway.Hosting;

namespace Slipway.Builder.Git;

/// <summary>
/// Where a submodule is fetched from: a project of the builder's git server, or an allowed outside URL. Resolves a
/// <c>.gitmodules</c> URL as git does (a relative one against the superproject's own location) and decides, without
/// touching the network, whether the builder may fetch it.
/// </summary>
/// <param name="FetchUrl">The URL git fetches (the server's projects anonymously).</param>
/// <param name="CacheName">The name of the bare cache repository it is fetched into.</param>
/// <param name="Location">What a relative URL inside it resolves against.</param>
public sealed record SubmoduleSource(string FetchUrl, string CacheName, SubmoduleSource.Place Location)
{
    /// <summary>A repository's location: a project of the builder's git server, or an outside URL.</summary>
    public sealed record Place(string? Project, string? Url);

    /// <summary>The source of <paramref name="url"/>, declared by a repository at <paramref name="at"/>; throws <see cref="ArgumentException"/> with the reason it is refused.</summary>
    /// <param name="serverBase">The builder's git server (<c>Builder:GitUrl</c>) without credentials and trailing '/'.</param>
    public static SubmoduleSource Resolve(string url, Place at, string serverBase, IReadOnlyList<string> allowedUrls)
    {
        url = url.Trim();
        if (url.Length is 0 or > 1000 || url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new ArgumentException("its URL is empty, too long or holds spaces or control characters");
        if (url.StartsWith("./", StringComparison.Ordinal) || url.StartsWith("../", StringComparison.Ordinal))
        {
            if (at.Project is { } project) return ServerProject(Relative(project, url), serverBase);
            var baseUri = new Uri(at.Url!);
            return Outside(baseUri.GetLeftPart(UriPartial.Authority) + "/" + Relative(baseUri.AbsolutePath.Trim('/'), url), allowedUrls);
        }
        if (url.StartsWith(serverBase + "/", StringComparison.OrdinalIgnoreCase))
            return ServerProject(url[(serverBase.Length + 1)..], serverBase);
        return Outside(url, allowedUrls);
    }

    /// <summary>git's rule: <c>../x</c> is a sibling of the superproject, <c>./x</c> lies below it.</summary>
    private static string Relative(string basePath, string url)
    {
        var parts = basePath.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        var rest = url;
        while (true)
        {
            if (rest.StartsWith("./", StringComparison.Ordinal)) rest = rest[2..];
            else if (rest.StartsWith("../", StringComparison.Ordinal))
            {
                if (parts.Count == 0) throw new ArgumentException($"its relative URL {url} climbs above the server's root");
                parts.RemoveAt(parts.Count - 1);
                rest = rest[3..];
            }
            else break;
        }
        return string.Join('/', parts.Append(rest));
    }

    private static SubmoduleSource ServerProject(string path, string serverBase)
    {
        var project = path.Trim('/');
        if (project.EndsWith(".git", StringComparison.Ordinal)) project = project[..^4];
        if (project.Length == 0 || project.Split('/').Any(p => p is "" or "." or "..") || project.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/')))
            throw new ArgumentException($"it names the project \"{Printable(project)}\", which is not a project name");
        return new SubmoduleSource($"{serverBase}/{project}", project, new Place(project, null));
    }

    private static SubmoduleSource Outside(string url, IReadOnlyList<string> allowedUrls)
    {
        const string how = "only projects of the builder's git server and URLs the operator allows (Builder:Submodules:AllowedUrls) are fetched; " +
                           "`fetch: {submodules: false}` builds without submodules";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"it comes from {Printable(url)}, which is not an http(s) URL: {how}");
        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || url.Contains('%') || url.Contains('\\'))
            throw new ArgumentException($"its URL {Printable(UrlCredentials.Redact(url))} holds credentials, a query, escapes or backslashes: {how}");
        var normalized = uri.AbsoluteUri; // dot segments removed: a prefix check cannot be walked around with ../
        if (!allowedUrls.Any(prefix => normalized.StartsWith(prefix, StringComparison.Ordinal)))
            throw new ArgumentException($"it comes from {Printable(normalized)}, which is not allowed: {how}");
        var cache = "submodules/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)))[..24];
        return new SubmoduleSource(normalized, cache, new Place(null, normalized));
    }

    private static string Printable(string s) => new(s.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
