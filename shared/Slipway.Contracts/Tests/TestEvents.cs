using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>The tester started running a test image's entry point, isolated (no network, limits, non-root).</summary>
[EventType("slipway.test.started.v1")]
[Description("The tester started running a test image's entry point in an isolated container.")]
public sealed record TestStarted : StepEvent
{
    /// <summary>The image under test.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>The reference the image was reached by.</summary>
    [MaxLength(1024)] public string? ImageRef { get; init; }
}

/// <summary>The test image's entry point exited 0.</summary>
[EventType("slipway.test.succeeded.v1")]
[Description("The test image's entry point exited 0.")]
public sealed record TestSucceeded : StepFinishedEvent, IStepOutputEvent
{
    /// <summary>The image tested.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>The entry point's exit code (0).</summary>
    public required int ExitCode { get; init; }

    /// <summary>The last lines of the output, when the plan asked for a tail.</summary>
    [Description(Output.TailDescription)]
    [MaxLength(Output.TailMaxChars)] public string? OutputTail { get; init; }

    /// <summary>The files the step's <c>copy</c> kept as run artifacts (<c>archive: true</c>); absent when none.</summary>
    [Description("Files the step's copy kept as run artifacts (archive: true), downloadable from the run's page; absent when none.")]
    [MaxLength(RunArtifact.MaxPerStep)]
    public IReadOnlyList<RunArtifact>? Artifacts { get; init; }
}

/// <summary>A file kept as a run artifact.</summary>
[Description("A file kept as a run artifact: its path in the run's workspace, size and SHA-256.")]
public sealed record RunArtifact
{
    /// <summary>Most artifacts one step lists.</summary>
    public const int MaxPerStep = 1000;

    /// <summary>
    /// PipelineLib archives a copied directory as <c>&lt;destination&gt;.tar.gz</c>: the link <c>artifactURLs</c> gives for
    /// it, which the reporter answers with the archived files below that directory, tarred and gzipped on the fly.
    /// </summary>
    public const string DirectoryArchiveSuffix = ".tar.gz";

    /// <summary>Path relative to the repository root (the copy's destination).</summary>
    [MaxLength(1024)] public required string Path { get; init; }

    /// <summary>Size in bytes.</summary>
    [Range(0, long.MaxValue)] public required long SizeBytes { get; init; }

    /// <summary>SHA-256 of the content, lowercase hex.</summary>
    [RegularExpression("^[0-9a-f]{64}$")] public required string Sha256 { get; init; }

    /// <summary>
    /// The stage the artifact belongs to when it is not the step's own: a later stage's <c>copy</c> out of this step's
    /// container (<see cref="RunParams.CopyFor"/>). Absent for the step's own stage.
    /// </summary>
    [Description("The stage the artifact belongs to when it is a later stage's copy out of this step's container (run.copyFor); absent for the step's own stage.")]
    [MaxLength(128)] public string? Stage { get; init; }
}

/// <summary>The tests failed: non-zero exit, time limit, or the container could not run.</summary>
[EventType("slipway.test.failed.v1")]
[Description("The tests failed (non-zero exit, time limit, or the container could not run); the output tail shows why.")]
public sealed record TestFailed : StepFinishedEvent, IStepFailedEvent, IStepOutputEvent
{
    /// <summary>The image tested; absent when the step failed before an image was found for it.</summary>
    [Description("The image tested; absent when the step failed before an image was found for it.")]
    [RegularExpression(ContractPatterns.ImageId)] public string? ImageId { get; init; }

    /// <summary>The entry point's exit code; absent when it never exited by itself (killed at the time limit, never started).</summary>
    [Description("The entry point's exit code; absent when it did not exit by itself (killed at the time limit, never started).")]
    public int? ExitCode { get; init; }

    /// <summary>True when the time limit killed it.</summary>
    [Description("True when the time limit killed it.")]
    public bool TimedOut { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }

    /// <summary>The last lines of the output: what Gerrit shows as the failure excerpt.</summary>
    [Description(Output.TailDescription)]
    [MaxLength(Output.TailMaxChars)] public string? OutputTail { get; init; }
}
