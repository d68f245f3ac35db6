using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>How a human gave an approval decision.</summary>
[Description("gerrit-comment: a review comment on the change; cli: the slipway command.")]
public enum ApprovalChannel
{
    /// <summary>A comment on the change in Gerrit.</summary>
    GerritComment,

    /// <summary>The <c>slipway approve</c> / <c>slipway refuse</c> command.</summary>
    Cli,
}

/// <summary>
/// A deploy step waits for a human: the deployer will not roll out to this environment until an
/// <c>approval.granted</c> for the run and environment arrives. Lets the reporter tell Gerrit.
/// </summary>
[EventType("slipway.approval.requested.v1")]
[Description("A deploy step waits for a human to approve rolling out to an environment.")]
public sealed record ApprovalRequested : IPipelineEvent
{
    /// <summary>The run waiting (also in the envelope's <c>runid</c>).</summary>
    [Description("The run waiting (also in the envelope's runid).")]
    [MaxLength(200)] public required string RunId { get; init; }

    /// <summary>The environment to approve, e.g. <c>production</c>.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>The service that would be deployed.</summary>
    [MaxLength(128)] public required string Service { get; init; }

    /// <summary>The stage of the deploy step waiting.</summary>
    [Description("The stage of the deploy step waiting.")]
    [MaxLength(128)] public required string Stage { get; init; }

    /// <summary>The deploy step waiting.</summary>
    [Description("The deploy step waiting.")]
    [MaxLength(128)] public required string Step { get; init; }

    /// <summary>The image that would be deployed.</summary>
    public ContainerImage? Image { get; init; }

    /// <summary>When the wait began.</summary>
    [Description("When the deploy step began waiting.")]
    public required DateTimeOffset RequestedAt { get; init; }
}

/// <summary>A human approved rolling out a run's image to an environment (production).</summary>
[EventType("slipway.approval.granted.v1")]
[Description("A human approved rolling out the run's image to an environment.")]
public sealed record ApprovalGranted : IPipelineEvent
{
    /// <summary>The run approved (also in the envelope's <c>runid</c>).</summary>
    [Description("The run approved; equals the envelope's runid.")]
    [MaxLength(200)] public required string RunId { get; init; }

    /// <summary>The environment approved, e.g. <c>production</c>.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>Who approved.</summary>
    [Description("Who approved: the Gerrit account that commented, or the CLI user.")]
    public required Account Approver { get; init; }

    /// <summary>How.</summary>
    [Description("How the decision was given.")]
    public required ApprovalChannel Via { get; init; }

    /// <summary>When.</summary>
    [Description("When the approval was given.")]
    public required DateTimeOffset GrantedAt { get; init; }

    /// <summary>What the approver wrote, if anything.</summary>
    [Description("What the approver wrote, if anything.")]
    [MaxLength(4096)] public string? Comment { get; init; }
}

/// <summary>A human refused a rollout; the deploy step, and so the run, is cancelled.</summary>
[EventType("slipway.approval.refused.v1")]
[Description("A human refused rolling out the run's image to an environment; the run is cancelled.")]
public sealed record ApprovalRefused : IPipelineEvent
{
    /// <summary>The run refused (also in the envelope's <c>runid</c>).</summary>
    [Description("The run refused; equals the envelope's runid.")]
    [MaxLength(200)] public required string RunId { get; init; }

    /// <summary>The environment refused.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>Who refused.</summary>
    [Description("Who refused: the Gerrit account that commented, or the CLI user.")]
    public required Account Approver { get; init; }

    /// <summary>How.</summary>
    [Description("How the decision was given.")]
    public required ApprovalChannel Via { get; init; }

    /// <summary>When.</summary>
    [Description("When the refusal was given.")]
    public required DateTimeOffset RefusedAt { get; init; }

    /// <summary>Why, as the person wrote it.</summary>
    [Description("Why, as the person wrote it.")]
    [MaxLength(4096)] public required string Reason { get; init; }
}
