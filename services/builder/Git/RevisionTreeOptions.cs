using Slipway.Hosting;

namespace Slipway.Builder.Git;

/// <summary>
/// Configuration section <c>Builder:Tree</c>: limits on an exported revision, so a hostile repository cannot fill
/// the builder's disk or exhaust it with paths. A revision past any limit is refused with a message naming it.
/// </summary>
public sealed class RevisionTreeOptions : IValidatableOptions
{
    public const string Section = "Builder:Tree";

    /// <summary>Most files and symbolic links in one revision.</summary>
    public int MaxFiles { get; set; } = 100_000;

    /// <summary>
    /// Most directories in one revision. Git stores no empty directory, but one file can sit under
    /// <see cref="MaxPathDepth"/> directories of its own, so files alone do not bound them.
    /// </summary>
    public int MaxDirectories { get; set; } = 100_000;

    /// <summary>Most bytes of file content in one revision.</summary>
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Most directory levels in a path (<c>a/b/c</c> is 3).</summary>
    public int MaxPathDepth { get; set; } = 64;

    /// <summary>Longest path, in UTF-8 bytes (Linux allows 4096 for a whole path).</summary>
    public int MaxPathLength { get; set; } = 1024;

    public IEnumerable<string> Validate()
    {
        if (MaxFiles < 1) yield return "Builder:Tree:MaxFiles must be at least 1";
        if (MaxDirectories < 1) yield return "Builder:Tree:MaxDirectories must be at least 1";
        if (MaxBytes < 1024) yield return "Builder:Tree:MaxBytes must be at least 1024";
        if (MaxPathDepth is < 1 or > 1024) yield return "Builder:Tree:MaxPathDepth must be between 1 and 1024";
        if (MaxPathLength is < 16 or > 4000) yield return "Builder:Tree:MaxPathLength must be between 16 and 4000";
    }
}
