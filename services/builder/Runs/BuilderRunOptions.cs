using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary><c>Builder</c>: where the builder fetches from and works, and the central Blubber policy.</summary>
public sealed class BuilderRunOptions : IValidatableOptions
{
    public const string Section = "Builder";

    /// <summary>Base URL of the git server; a project's repository is <c>&lt;GitUrl&gt;/&lt;project&gt;</c>. Defaults to <c>Gerrit:Url</c>.</summary>
    public string? GitUrl { get; set; }

    /// <summary>Where the per-project git caches and the per-run workspaces live.</summary>
    public string WorkDir { get; set; } = Path.Combine(Path.GetTempPath(), "slipway-builder");

    /// <summary>A Blubber policy file (format in blubber-v4.md) enforced before every build; none when empty.</summary>
    public string? PolicyFile { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(GitUrl)) yield return "Builder:GitUrl (or Gerrit:Url) is required: the git server the builder fetches from";
        else if (!Uri.TryCreate(GitUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ssh" or "file"))
            yield return $"Builder:GitUrl '{Slipway.Builder.Git.GitUrl.Redact(GitUrl)}' is invalid (want http(s)://, ssh:// or file:// URL)"; // never echo a password
        if (string.IsNullOrWhiteSpace(WorkDir)) yield return "Builder:WorkDir is required";
        if (!string.IsNullOrWhiteSpace(PolicyFile) && !File.Exists(PolicyFile)) yield return $"Builder:PolicyFile '{PolicyFile}' does not exist";
    }
}
