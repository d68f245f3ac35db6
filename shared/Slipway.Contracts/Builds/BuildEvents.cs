using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>The builder started building a variant of the run's revision.</summary>
[EventType("slipway.build.started.v1")]
[Description("The builder started building an image variant of the run's revision.")]
public sealed record BuildStarted : StepEvent
{
    /// <summary>The Blubber variant being built.</summary>
    [MaxLength(128)] public required string Variant { get; init; }

    /// <summary>Gerrit project.</summary>
    [MaxLength(512)] public required string Project { get; init; }

    /// <summary>The commit being built.</summary>
    [RegularExpression(ContractPatterns.GitSha)] public required string Revision { get; init; }
}

/// <summary>The builder built the image. Its cue for the tester (test or smoke step next in the stage).</summary>
[EventType("slipway.build.succeeded.v1")]
[Description("The builder built the image; imageId/imageRef name it on the build host.")]
public sealed record BuildSucceeded : StepFinishedEvent
{
    /// <summary>The Blubber variant built.</summary>
    [MaxLength(128)] public required string Variant { get; init; }

    /// <summary>Gerrit project.</summary>
    [MaxLength(512)] public required string Project { get; init; }

    /// <summary>The commit built.</summary>
    [RegularExpression(ContractPatterns.GitSha)] public required string Revision { get; init; }

    /// <summary>The image id, <c>sha256:&lt;64 hex&gt;</c>.</summary>
    [Description("The image id (config digest), sha256:<64 hex>.")]
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>A reference other services use to reach the image (local name:tag, or a staging registry reference).</summary>
    [Description("A reference other services use to reach the image: a local name:tag, or a reference in a staging registry.")]
    [MaxLength(1024)] public required string ImageRef { get; init; }

    /// <summary>Image size in bytes, when known.</summary>
    [Range(0, long.MaxValue)] public long? SizeBytes { get; init; }

    /// <summary>Set when nothing was built: the image of an earlier build of exactly the same inputs was reused; the run that built it.</summary>
    [Description("Set when nothing was built: an earlier build of exactly the same inputs (same project) was reused; the id of the run that built it.")]
    [MaxLength(128)] public string? ReusedFromRun { get; init; }
}

/// <summary>The build failed (Blubber error, policy violation, Dockerfile step failed, time limit…).</summary>
[EventType("slipway.build.failed.v1")]
[Description("The build failed: reason always, and the tail of the build output when there is one.")]
public sealed record BuildFailed : StepFinishedEvent, IStepFailedEvent, IStepOutputEvent
{
    /// <summary>The Blubber variant.</summary>
    [MaxLength(128)] public required string Variant { get; init; }

    /// <summary>Gerrit project.</summary>
    [MaxLength(512)] public required string Project { get; init; }

    /// <summary>The commit.</summary>
    [RegularExpression(ContractPatterns.GitSha)] public required string Revision { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }

    /// <summary>The last lines of the build output (bounded, see <see cref="Output.Tail"/>).</summary>
    [Description(Output.TailDescription)]
    [MaxLength(Output.TailMaxChars)] public string? OutputTail { get; init; }
}
