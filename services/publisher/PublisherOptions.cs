using System.Text.RegularExpressions;
using Slipway.Hosting;

namespace Slipway.Publisher;

/// <summary>Configuration section <c>Publisher</c>: tagging and retention of published images.</summary>
public sealed partial class PublisherOptions : IValidatableOptions
{
    public const string Section = "Publisher";

    /// <summary>Keep this many of the newest <c>&lt;timestamp&gt;-&lt;stage&gt;</c> tags per repository (and their manifests).</summary>
    public int KeepTags { get; set; } = 10;

    /// <summary>Suffix of the timestamp tag: <c>&lt;UTC yyyy-MM-dd-HHmmss&gt;-&lt;Stage&gt;</c>.</summary>
    public string Stage { get; set; } = "production";

    /// <summary>
    /// Image repository (as published, e.g. <c>foo</c> or <c>team/foo</c>) → the Gerrit project that alone may publish it.
    /// A name not listed belongs to the first project that published it (<see cref="Registry.ImageOwners"/>).
    /// </summary>
    public Dictionary<string, string> ImageOwners { get; set; } = new(StringComparer.Ordinal);

    public IEnumerable<string> Validate()
    {
        if (KeepTags is < 1 or > 1000) yield return $"Publisher:KeepTags must be between 1 and 1000 (is {KeepTags})";
        if (string.IsNullOrEmpty(Stage) || !StagePattern().IsMatch(Stage))
            yield return $"Publisher:Stage '{Stage}' is invalid (want lower case letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit)";
        else if (Stage == "latest")
            yield return "Publisher:Stage must not be 'latest'";
        foreach (var (repository, project) in ImageOwners)
            if (string.IsNullOrWhiteSpace(project) || project.Trim('/').Length == 0)
                yield return $"Publisher:ImageOwners:{repository} names no project";
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex StagePattern();
}
