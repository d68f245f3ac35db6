using System.Globalization;
using System.Text.RegularExpressions;
using Slipway.Contracts;

namespace Slipway.Publisher.Registry;

/// <summary>
/// The tags and repository name of a published image (pure). Sanitized like PipelineLib's
/// <c>publish</c> step: lower case, <c>/</c> replaced by <c>-</c>, empty tags dropped; then
/// checked against Docker's grammars so a bad name fails here with a clear message rather than
/// in the middle of a push. <c>latest</c> is never pushed: it names no particular build.
/// </summary>
public static partial class PublishTags
{
    /// <summary>Format of the timestamp part of the primary tag (UTC).</summary>
    public const string TimestampFormat = "yyyy-MM-dd-HHmmss";

    /// <summary>Docker's tag grammar.</summary>
    [GeneratedRegex(ContractPatterns.DockerTag)]
    private static partial Regex TagGrammar();

    /// <summary>One path component of a distribution repository name.</summary>
    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex PathComponent();

    /// <summary>A git commit id: SHA-1 (40) or SHA-256 (64) hex.</summary>
    [GeneratedRegex("^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
    private static partial Regex CommitSha();

    /// <summary>A Slipway timestamp tag: <c>yyyy-MM-dd-HHmmss-&lt;stage&gt;</c>.</summary>
    [GeneratedRegex("^([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{6})-([a-z0-9][a-z0-9_.-]*)$")]
    private static partial Regex TimestampTagPattern();

    /// <summary>Longest repository path accepted (distribution's limit is 255 including the registry host).</summary>
    public const int MaxRepositoryLength = 200;

    /// <summary>
    /// The tags of one publish, in order: <c>&lt;UTC yyyy-MM-dd-HHmmss&gt;-&lt;stage&gt;</c>, the commit SHA, then
    /// the sanitized <paramref name="extra"/> tags (duplicates and empty ones dropped).
    /// </summary>
    /// <exception cref="ArgumentException">A tag is <c>latest</c> or breaks Docker's tag grammar, or the SHA is not a commit id.</exception>
    public static IReadOnlyList<string> For(DateTimeOffset now, string stage, string commitSha, IEnumerable<string>? extra)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(commitSha);

        var sanitizedStage = Sanitize(stage);
        if (sanitizedStage.Length == 0) throw new ArgumentException("the publish stage is empty", nameof(stage));
        var primary = Validate($"{now.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture)}-{sanitizedStage}");

        var sha = commitSha.Trim().ToLowerInvariant();
        if (!CommitSha().IsMatch(sha))
            throw new ArgumentException($"'{Truncate(commitSha)}' is not a commit SHA (want 40 or 64 hex digits)", nameof(commitSha));

        var tags = new List<string> { primary, sha };
        foreach (var tag in extra ?? [])
        {
            var sanitized = Sanitize(tag ?? "");
            if (sanitized.Length == 0) continue;
            Validate(sanitized);
            if (!tags.Contains(sanitized)) tags.Add(sanitized);
        }
        return tags;
    }

    /// <summary>PipelineLib's sanitizing of names and tags: trimmed, lower case, <c>/</c> replaced by <c>-</c>.</summary>
    public static string Sanitize(string value) => value.Trim().ToLowerInvariant().Replace('/', '-');

    /// <summary>Checks one (already sanitized) tag; returns it.</summary>
    /// <exception cref="ArgumentException">It is <c>latest</c> or breaks Docker's tag grammar.</exception>
    public static string Validate(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (string.Equals(tag, "latest", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException("the tag 'latest' is never pushed: every published image is tagged with its timestamp and commit SHA", nameof(tag));
        if (!TagGrammar().IsMatch(tag))
            throw new ArgumentException($"'{Truncate(tag)}' is not a valid Docker tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')", nameof(tag));
        return tag;
    }

    /// <summary>
    /// The repository (path under the registry) of a project's image.
    /// Without <paramref name="name"/>: the Gerrit project, lower case, its <c>/</c> kept as path
    /// separators (<c>demo/hello-service</c>). With a name (PipelineLib's <c>publish.image.name</c>):
    /// sanitized like PipelineLib (lower case, <c>/</c> → <c>-</c>) and it must equal, or start with
    /// <c>&lt;prefix&gt;-</c> for, the sanitized full project name or its short (last path component) name.
    /// </summary>
    /// <exception cref="ArgumentException">The result breaks the distribution name grammar, or the name does not match the project.</exception>
    public static string RepositoryName(string project, string? name)
    {
        ArgumentNullException.ThrowIfNull(project);
        var projectPath = project.Trim().Trim('/').ToLowerInvariant();
        if (projectPath.Length == 0) throw new ArgumentException("the project name is empty", nameof(project));

        string repository;
        if (string.IsNullOrWhiteSpace(name))
        {
            repository = projectPath;
        }
        else
        {
            repository = Sanitize(name);
            var full = projectPath.Replace('/', '-');
            var shortName = projectPath[(projectPath.LastIndexOf('/') + 1)..];
            if (!(MatchesProject(repository, full) || MatchesProject(repository, shortName)))
                throw new ArgumentException(
                    $"image name '{Truncate(repository)}' must match or be prefixed by the full ('{full}') or short ('{shortName}') project name, e.g. '{shortName}' or '{shortName}-<something>'",
                    nameof(name));
        }
        return ValidateRepository(repository);
    }

    /// <summary>Checks a repository path against the distribution name grammar; returns it.</summary>
    /// <exception cref="ArgumentException">It does not fit the grammar (upper case, <c>..</c>, empty components, too long…).</exception>
    public static string ValidateRepository(string repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (repository.Length == 0) throw new ArgumentException("the repository name is empty", nameof(repository));
        if (repository.Length > MaxRepositoryLength)
            throw new ArgumentException($"repository name '{Truncate(repository)}' is longer than {MaxRepositoryLength} characters", nameof(repository));
        foreach (var component in repository.Split('/'))
            if (!PathComponent().IsMatch(component))
                throw new ArgumentException(
                    $"repository name '{Truncate(repository)}' is invalid: component '{Truncate(component)}' must be lower case letters and digits, separated by '.', '_', '__' or '-' (no '..', no empty components, no upper case)",
                    nameof(repository));
        return repository;
    }

    /// <summary>The UTC time in a Slipway timestamp tag (<c>yyyy-MM-dd-HHmmss-&lt;stage&gt;</c>), or null for any other tag.</summary>
    public static DateTimeOffset? TimestampOf(string tag)
    {
        var match = TimestampTagPattern().Match(tag ?? "");
        if (!match.Success) return null;
        return DateTime.TryParseExact(match.Groups[1].Value, TimestampFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            ? new DateTimeOffset(time, TimeSpan.Zero)
            : null;
    }

    private static bool MatchesProject(string name, string project) =>
        name == project || name.StartsWith(project + "-", StringComparison.Ordinal);

    private static string Truncate(string value) => value.Length <= 140 ? value : value[..140] + "…";
}
