using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>The deployer started recording a published image in the configuration registry (PipelineLib's <c>promote</c>).</summary>
[EventType("slipway.promote.started.v1")]
[Description("The deployer started recording a published image for environments in the configuration registry, without rolling it out (PipelineLib promote).")]
public sealed record PromoteStarted : StepEvent
{
    /// <summary>The chart (service) whose version is updated.</summary>
    [MaxLength(256)] public required string Chart { get; init; }

    /// <summary>The environments whose values get the image.</summary>
    public required IReadOnlyList<string> Environments { get; init; }
}

/// <summary>The image is recorded for every environment of the step; a later deploy (or the operator's tooling) rolls it out.</summary>
[EventType("slipway.promote.succeeded.v1")]
[Description("The published image is recorded in the configuration registry for each environment of the step.")]
public sealed record PromoteSucceeded : StepFinishedEvent
{
    /// <summary>The chart (service) whose version was updated.</summary>
    [MaxLength(256)] public required string Chart { get; init; }

    /// <summary>The image recorded.</summary>
    public required ContainerImage Image { get; init; }

    /// <summary>The configuration-registry commit per environment.</summary>
    [Description("The configuration-registry commit per environment.")]
    public required IReadOnlyDictionary<string, string> ConfigRevisions { get; init; }

    /// <summary>
    /// Environments left alone, each with the reason: a run triggered later had already recorded its image there (an older
    /// run never overwrites a newer one's image). They have no entry in <see cref="ConfigRevisions"/>.
    /// </summary>
    [Description("Environments left alone because a run triggered later had already recorded its image there, each with the reason; they have no configRevisions entry.")]
    public IReadOnlyDictionary<string, string>? Superseded { get; init; }
}

/// <summary>Recording the image failed (no published image, invalid names, the configuration registry refused).</summary>
[EventType("slipway.promote.failed.v1")]
[Description("Recording the image in the configuration registry failed.")]
public sealed record PromoteFailed : StepFinishedEvent, IStepFailedEvent
{
    /// <summary>The chart (service).</summary>
    [MaxLength(256)] public required string Chart { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }
}
