using Slipway.Hosting;

namespace Slipway.Builder.Git;

/// <summary>
/// Configuration section <c>Builder:Submodules</c>: where a revision's git submodules may come from (PipelineLib's
/// <c>fetch.submodules</c>, on by default). A submodule on the builder's own git server (<c>Builder:GitUrl</c>, by a
/// relative URL such as <c>../other-project</c> or by its full URL) is fetched anonymously, so a patch set can never use
/// the builder's credentials to pull a project its uploader may not read; any other URL must start with one of
/// <see cref="AllowedUrls"/> (http or https). Everything else is refused, naming the submodule: a patch set's
/// <c>.gitmodules</c> must not make the builder fetch from inside the operator's network.
/// </summary>
public sealed class SubmoduleOptions : IValidatableOptions
{
    public const string Section = "Builder:Submodules";

    /// <summary>URL prefixes submodules may be fetched from besides the builder's git server, e.g. <c>https://github.com/zotero/</c>.</summary>
    public List<string> AllowedUrls { get; set; } = [];

    /// <summary>Most submodules of one revision, nested ones included.</summary>
    public int MaxCount { get; set; } = 50;

    /// <summary>Deepest nesting (a submodule's submodule is 2).</summary>
    public int MaxDepth { get; set; } = 3;

    public IEnumerable<string> Validate()
    {
        foreach (var prefix in AllowedUrls)
            if (!Uri.TryCreate(prefix, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0
                || !prefix.EndsWith('/'))
                yield return $"Builder:Submodules:AllowedUrls: '{UrlCredentials.Redact(prefix)}' must be an http(s) URL without credentials ending in '/'";
        if (MaxCount is < 0 or > 1000) yield return "Builder:Submodules:MaxCount must be between 0 and 1000";
        if (MaxDepth is < 1 or > 10) yield return "Builder:Submodules:MaxDepth must be between 1 and 10";
    }
}
