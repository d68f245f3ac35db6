using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>How far a rollout has gone.</summary>
[Description("canary: a first instance; partial: a share of instances; full: every instance.")]
public enum RolloutStage
{
    /// <summary>One instance (or the smallest share) runs the new image.</summary>
    Canary,

    /// <summary>A percentage of instances run it.</summary>
    Partial,

    /// <summary>Every instance runs it.</summary>
    Full,
}

/// <summary>
/// The deployer started one stage of a rollout. A deploy step emits one started/succeeded pair per
/// rollout stage (canary, partial, full); the step is done at <c>deploy.succeeded</c> with
/// <c>rolloutStage: full</c>, and ends at the first <c>deploy.failed</c>.
/// </summary>
[EventType("slipway.deploy.started.v1")]
[Description("The deployer started one stage of a rollout (one started/succeeded pair per stage: canary, partial, full).")]
public sealed record DeployStarted : StepEvent
{
    /// <summary>Target environment, e.g. <c>staging</c>, <c>production</c>.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>The service (release) being deployed.</summary>
    [MaxLength(128)] public required string Service { get; init; }

    /// <summary>The rollout stage this event is about.</summary>
    public required RolloutStage RolloutStage { get; init; }

    /// <summary>Share of instances that run the new image once this stage is done, 1-100.</summary>
    [Range(1, 100)] public required int Percentage { get; init; }

    /// <summary>The image being rolled out.</summary>
    public required ContainerImage Image { get; init; }
}

/// <summary>One rollout stage is done and healthy. With <c>full</c>, the deploy step succeeded.</summary>
[EventType("slipway.deploy.succeeded.v1")]
[Description("One rollout stage is done and healthy; with rolloutStage 'full' the deploy step succeeded.")]
public sealed record DeploySucceeded : StepFinishedEvent
{
    /// <summary>Target environment.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>The service (release) deployed.</summary>
    [MaxLength(128)] public required string Service { get; init; }

    /// <summary>The rollout stage that completed.</summary>
    public required RolloutStage RolloutStage { get; init; }

    /// <summary>Share of instances now running the new image, 1-100.</summary>
    [Range(1, 100)] public required int Percentage { get; init; }

    /// <summary>The image rolled out.</summary>
    public required ContainerImage Image { get; init; }

    /// <summary>The configuration-registry commit that records the new image for this environment.</summary>
    [Description("The configuration-registry commit recording the new image for this environment.")]
    [RegularExpression(ContractPatterns.GitSha)] public string? ConfigRevision { get; init; }

    /// <summary>
    /// Set when this run rolled nothing out: the run triggered later whose image was already recorded for this environment.
    /// An older run never overwrites a newer run's image; its deploy step ends here (succeeded, as there is nothing left to do).
    /// </summary>
    [Description("Set when nothing was rolled out: the id of the run, triggered later, whose image this environment already runs; an older run never overwrites a newer one's image.")]
    [MaxLength(200)] public string? SupersededBy { get; init; }

    /// <summary>Why nothing was rolled out (with <see cref="SupersededBy"/>).</summary>
    [Description("Why nothing was rolled out (with supersededBy).")]
    [MaxLength(4096)] public string? SkipReason { get; init; }
}

/// <summary>A rollout stage failed (health checks, time limit, backend error). Automatic rollback follows when possible.</summary>
[EventType("slipway.deploy.failed.v1")]
[Description("A rollout stage failed; rolledBack says whether the previous image is back.")]
public sealed record DeployFailed : StepFinishedEvent, IStepFailedEvent
{
    /// <summary>Target environment.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>The service (release).</summary>
    [MaxLength(128)] public required string Service { get; init; }

    /// <summary>The rollout stage that failed.</summary>
    public required RolloutStage RolloutStage { get; init; }

    /// <summary>Share of instances the failed stage aimed at, 1-100.</summary>
    [Range(1, 100)] public required int Percentage { get; init; }

    /// <summary>The image that failed to roll out.</summary>
    public ContainerImage? Image { get; init; }

    /// <summary>True when the previous image was restored (a <c>rollback.performed</c> event says how).</summary>
    [Description("True when the previous image was restored (see slipway.rollback.performed.v1).")]
    public bool RolledBack { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }
}
