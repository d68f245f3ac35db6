using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// PipelineLib's <c>notify</c>: a step of a stage with <c>notify.email</c> (its own or its pipeline's) failed, so the
/// recipients are to be told, with PipelineLib's subject and body. Emitted once per run and stage by the service that
/// recorded the failure. The reporter mails it when the operator names an SMTP relay (<c>Reporter:Mail</c>); any other
/// consumer may act on it too.
/// </summary>
[EventType("slipway.notify.requested.v1")]
[Description("A stage with notify.email failed (PipelineLib notify): who to tell, the subject and the body, interpolated at planning (runtime outputs in them resolved when this was emitted). The reporter sends it as mail when an SMTP relay is configured (Reporter:Mail); other consumers may act on it too.")]
public sealed record NotifyRequested : IPipelineEvent
{
    /// <summary>The pipeline of the run.</summary>
    [MaxLength(128)] public required string Pipeline { get; init; }

    /// <summary>The project of the run.</summary>
    [MaxLength(255)] public required string Project { get; init; }

    /// <summary>The stage that failed.</summary>
    [MaxLength(128)] public required string Stage { get; init; }

    /// <summary>The step whose failure failed the stage.</summary>
    [MaxLength(128)] public required string Step { get; init; }

    /// <summary>Why the step failed, one line.</summary>
    [MaxLength(4096)] public required string Reason { get; init; }

    /// <summary>The email recipients (<c>notify.email.to</c>; those from runtime outputs resolved and split).</summary>
    [Description("The email recipients (notify.email.to; those from runtime outputs resolved and split on commas and white space).")]
    [MaxLength(50)] public required IReadOnlyList<string> To { get; init; }

    /// <summary>The subject (<c>notify.email.subject</c>, PipelineLib's default when absent).</summary>
    [MaxLength(998)] public required string Subject { get; init; }

    /// <summary>The body (PipelineLib's default: which stage failed and the log URL).</summary>
    [MaxLength(16384)] public required string Body { get; init; }
}
