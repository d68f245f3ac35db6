using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A run began: what triggered it and its whole plan. Emitted once per run by the builder, first of
/// the run's events; every other service learns the plan from it (no service reads another's tables).
/// </summary>
/// <remarks>
/// The run id (in the envelope) derives deterministically from the triggering Gerrit event and the
/// pipeline name, so a duplicate trigger yields the same run id and never a second run.
/// </remarks>
[EventType("slipway.run.started.v1")]
[Description("A pipeline run began: its trigger and its plan (stages, steps, execution graph). First event of every run.")]
public sealed record RunStarted : IPipelineEvent
{
    /// <summary>What started the run.</summary>
    [Description("What started the run.")]
    public required RunTrigger Trigger { get; init; }

    /// <summary>What the run will do.</summary>
    [Description("What the run will do.")]
    public required RunPlan Plan { get; init; }

    /// <summary>When the builder created the run.</summary>
    [Description("When the builder created the run.")]
    public required DateTimeOffset StartedAt { get; init; }
}

/// <summary>What started a run: which Gerrit event, for which revision.</summary>
[Description("What started the run.")]
public sealed record RunTrigger
{
    /// <summary>The kind of trigger.</summary>
    public required TriggerKind Kind { get; init; }

    /// <summary>Gerrit project.</summary>
    [MaxLength(512)]
    public required string Project { get; init; }

    /// <summary>Target branch, short name; null for a run a tag started.</summary>
    [Description("Target branch, short name; absent for a run a tag started (ref-update of refs/tags/*).")]
    [MaxLength(512)]
    public string? Branch { get; init; }

    /// <summary>Change number (not for <c>ref-update</c>).</summary>
    [Description("Change number (not for ref-update).")]
    [Range(1, int.MaxValue)]
    public int? Change { get; init; }

    /// <summary>Change-Id (not for <c>ref-update</c>).</summary>
    [Description("Change-Id (not for ref-update).")]
    [RegularExpression(ContractPatterns.ChangeId)]
    public string? ChangeId { get; init; }

    /// <summary>Patch set number (not for <c>ref-update</c>).</summary>
    [Description("Patch set number (not for ref-update).")]
    [Range(1, int.MaxValue)]
    public int? Patchset { get; init; }

    /// <summary>The ref fetched: <c>refs/changes/XX/N/P</c>, the branch ref for merges and ref updates, or <c>refs/tags/NAME</c>.</summary>
    [Description("The ref fetched: refs/changes/XX/N/P, the branch ref for merge and ref-update, or refs/tags/NAME for a ref-update a new tag made.")]
    [MaxLength(1024)]
    public required string Ref { get; init; }

    /// <summary>The exact commit the run builds (an annotated tag peeled to its commit).</summary>
    [Description("The exact commit the run builds (an annotated tag peeled to its commit).")]
    [RegularExpression(ContractPatterns.GitSha)]
    public required string Revision { get; init; }

    /// <summary>Envelope id of the <c>slipway.gerrit.event.v1</c> that triggered the run.</summary>
    [Description("Envelope id of the slipway.gerrit.event.v1 that triggered the run.")]
    [MaxLength(200)]
    public string? GerritEventId { get; init; }

    /// <summary>Who caused it: the uploader, the <c>recheck</c> commenter, the submitter or pusher.</summary>
    [Description("Who caused it: the uploader, the recheck commenter, the submitter or pusher.")]
    public Account? RequestedBy { get; init; }
}

/// <summary>What kind of event started a run.</summary>
[Description("patchset: a new patch set; ref-update: a push to a branch, or a new tag; recheck: a 'recheck' comment; merge: a change merged.")]
public enum TriggerKind
{
    /// <summary>A new patch set was uploaded (<c>patchset-created</c>).</summary>
    Patchset,

    /// <summary>A branch was updated directly (<c>ref-updated</c> on <c>refs/heads/*</c>), or a tag created (<c>refs/tags/*</c>).</summary>
    RefUpdate,

    /// <summary>Someone commented <c>recheck</c> (a new trigger, so a new run).</summary>
    Recheck,

    /// <summary>A change was merged (<c>change-merged</c>); only merge runs publish and deploy.</summary>
    Merge,
}
