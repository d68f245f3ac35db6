using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// PipelineLib's <c>trigger</c>: a run asks for a downstream job (Jenkins' <c>build</c> step in PipelineLib). Slipway has
/// no Jenkins: this event is the request, for whoever follows <c>pipeline.events</c>, and the publisher POSTs it to the
/// webhook the operator mapped the job to (<c>Pipeline:Triggers:&lt;job&gt;:Url</c>) before emitting it.
/// </summary>
[EventType("slipway.trigger.requested.v1")]
[Description("A run's trigger step asked for a downstream job (PipelineLib trigger): the job name and its parameters. The publisher delivered it to the operator's webhook for the job, when one is configured, before emitting this.")]
public sealed record TriggerRequested : StepFinishedEvent
{
    /// <summary>The downstream job's name (<c>trigger.name</c>).</summary>
    [Description("The downstream job's name (trigger.name).")]
    [MaxLength(128)] public required string Job { get; init; }

    /// <summary>The job's parameters (<c>trigger.parameters</c>), interpolated, runtime outputs resolved.</summary>
    [Description("The job's parameters (trigger.parameters), interpolated when the run was planned; runtime outputs in them (e.g. ${publish.imageTag}) resolved when the step ran.")]
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    /// <summary>The project and revision of the run that asked.</summary>
    [MaxLength(255)] public required string Project { get; init; }

    /// <summary>The run's revision.</summary>
    [RegularExpression(ContractPatterns.GitSha)] public required string Revision { get; init; }

    /// <summary>The HTTP status of the operator's webhook; absent when no webhook is configured for the job.</summary>
    [Description("The HTTP status the operator's webhook answered; absent when none is configured for the job (the event is the request).")]
    [Range(100, 599)] public int? WebhookStatus { get; init; }
}

/// <summary>The trigger step failed: the job is not allowed for the project, or its webhook did not accept the request.</summary>
[EventType("slipway.trigger.failed.v1")]
[Description("A run's trigger step failed: the job is not allowed for the project, or the operator's webhook refused or did not answer.")]
public sealed record TriggerFailed : StepFinishedEvent, IStepFailedEvent
{
    /// <summary>The downstream job's name.</summary>
    [MaxLength(128)] public required string Job { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }
}
