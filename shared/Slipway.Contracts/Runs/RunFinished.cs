using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A run ended. Emitted once, last of the run's events, by whichever service completed or failed the
/// run's last step (or by the service that cancelled it).
/// </summary>
[EventType("slipway.run.finished.v1")]
[Description("A pipeline run ended: its outcome, the failed step if any, a summary of every step, and the images it published. Last event of every run.")]
public sealed record RunFinished : IPipelineEvent
{
    /// <summary>succeeded, failed or cancelled.</summary>
    public required RunOutcome Outcome { get; init; }

    /// <summary>The stage of the step that failed the run.</summary>
    [Description("The stage of the step that failed the run.")]
    [MaxLength(128)]
    public string? FailedStage { get; init; }

    /// <summary>The step that failed the run.</summary>
    [Description("The step that failed the run.")]
    [MaxLength(128)]
    public string? FailedStep { get; init; }

    /// <summary>Why the run failed or was cancelled, one line, for humans.</summary>
    [Description("Why the run failed or was cancelled, one line.")]
    [MaxLength(4096)]
    public string? Reason { get; init; }

    /// <summary>Every step of the plan, in plan order, with what became of it.</summary>
    [Description("Every step of the plan, in plan order, with what became of it.")]
    public required IReadOnlyList<StepSummary> Steps { get; init; }

    /// <summary>The image published by the run, if it published one; of several, the last in plan order (see <see cref="Images"/>).</summary>
    [Description("The image the run published; when it published several, the last in plan order (images lists them all).")]
    public ContainerImage? Image { get; init; }

    /// <summary>Every image the run published, in plan order, at most <see cref="MaxImages"/>; absent when none.</summary>
    [Description("Every image the run published, in plan order (at most 100); absent when it published none.")]
    [MaxLength(MaxImages)]
    public IReadOnlyList<PublishedImage>? Images { get; init; }

    /// <summary>The bound on <see cref="Images"/>: a plan with more publish steps lists its first ones.</summary>
    public const int MaxImages = 100;

    /// <summary>When the run started (its <c>run.started</c>).</summary>
    [Description("When the run started (its run.started).")]
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run ended.</summary>
    [Description("When the run ended.")]
    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>Wall-clock duration of the whole run in milliseconds.</summary>
    [Description("Wall-clock duration of the whole run in milliseconds.")]
    [Range(0, long.MaxValue)]
    public required long DurationMs { get; init; }
}

/// <summary>An image a publish step of the run pushed.</summary>
[Description("An image a publish step of the run pushed: the step, and the image's URI, tags and digest.")]
public sealed record PublishedImage
{
    /// <summary>The publish step's stage.</summary>
    [Description("The publish step's stage.")]
    [MaxLength(128)]
    public required string Stage { get; init; }

    /// <summary>The publish step.</summary>
    [Description("The publish step.")]
    [MaxLength(128)]
    public required string Step { get; init; }

    /// <summary>What it pushed.</summary>
    public required ContainerImage Image { get; init; }
}

/// <summary>How a run ended.</summary>
[Description("How the run ended.")]
public enum RunOutcome
{
    /// <summary>Every step succeeded (or was not needed).</summary>
    Succeeded,

    /// <summary>A step failed.</summary>
    Failed,

    /// <summary>The run was stopped: superseded by a newer patch set, abandoned change, refused approval, or an operator.</summary>
    Cancelled,
}

/// <summary>One step's result in a run's summary.</summary>
[Description("One step's result.")]
public sealed record StepSummary
{
    /// <summary>Stage name.</summary>
    [Description("The stage the step belongs to.")]
    [MaxLength(128)]
    public required string Stage { get; init; }

    /// <summary>Step name.</summary>
    [Description("The step's name.")]
    [MaxLength(128)]
    public required string Name { get; init; }

    /// <summary>The step's kind.</summary>
    public required StepKind Kind { get; init; }

    /// <summary>What became of it.</summary>
    public required StepOutcome Outcome { get; init; }

    /// <summary>Duration of its last attempt in milliseconds; absent for steps that never ran.</summary>
    [Description("Duration of its last attempt in milliseconds; absent for steps that never ran.")]
    [Range(0, long.MaxValue)]
    public long? DurationMs { get; init; }

    /// <summary>How many attempts it took; absent for steps that never ran.</summary>
    [Description("How many attempts it took; absent for steps that never ran.")]
    [Range(1, int.MaxValue)]
    public int? Attempts { get; init; }
}

/// <summary>What became of a step.</summary>
[Description("succeeded, failed, skipped (never ran: an earlier step failed or it does not apply to this trigger) or cancelled (stopped while running).")]
public enum StepOutcome
{
    /// <summary>It ran and succeeded.</summary>
    Succeeded,

    /// <summary>It ran and failed.</summary>
    Failed,

    /// <summary>It never ran.</summary>
    Skipped,

    /// <summary>It was stopped while running or waiting (e.g. for approval).</summary>
    Cancelled,
}
