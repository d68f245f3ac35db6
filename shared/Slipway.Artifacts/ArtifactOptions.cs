using Slipway.Hosting;

namespace Slipway.Artifacts;

/// <summary>
/// Configuration section <c>Artifacts</c>, read by the tester (writes), the builder (reads copies into build contexts)
/// and the reporter (serves archived files): one directory all three reach (on one machine, or a shared volume).
/// </summary>
public sealed class ArtifactOptions : IValidatableOptions
{
    public const string Section = "Artifacts";

    /// <summary>The run-scoped artifact directory; empty means PipelineLib's <c>copy</c> cannot run (the step fails saying so).</summary>
    public string Directory { get; set; } = "";

    /// <summary>Most bytes one run step may copy out of its container, all entries together.</summary>
    public long MaxBytesPerStep { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most files and directories one run step may copy out of its container, all entries together.</summary>
    public int MaxFilesPerStep { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        if (Directory.Length > 0 && !Path.IsPathFullyQualified(Directory))
            yield return $"Artifacts:Directory '{Directory}' must be an absolute path";
        if (MaxBytesPerStep is < 1)
            yield return "Artifacts:MaxBytesPerStep must be positive";
        if (MaxFilesPerStep is < 1 or > 1_000_000)
            yield return "Artifacts:MaxFilesPerStep must be from 1 to 1000000";
    }
}
