using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Slipway.Contracts;

/// <summary>
/// One Gerrit event as the gateway saw it, normalized to the fields Slipway uses, with Gerrit's
/// original JSON object in <see cref="Raw"/> so types and fields Slipway does not know pass through
/// unchanged. Published on <c>gerrit.events</c>, keyed <c>project~change</c> (or <c>project~ref</c>).
/// </summary>
/// <remarks>
/// Gerrit may omit any field, so everything but the event type, time, source and raw JSON is optional.
/// The gateway derives the envelope id from the event's content (<see cref="DeterministicId"/>), so the
/// same Gerrit event seen twice (live, then again by a catch-up) has the same id and is dropped as a duplicate.
/// </remarks>
[EventType("slipway.gerrit.event.v1", RunScoped = false)]
[Description("One Gerrit event (stream-events, events-log, REST catch-up or webhook), normalized; the original JSON is in 'raw'.")]
public sealed record GerritEvent
{
    /// <summary>Gerrit's event type string, e.g. <c>patchset-created</c>, <c>comment-added</c>, <c>change-merged</c>, <c>ref-updated</c>.</summary>
    [Description("Gerrit's event type string, e.g. patchset-created, comment-added, change-merged, ref-updated.")]
    [MaxLength(100)]
    public required string Type { get; init; }

    /// <summary>Project (repository) name, e.g. <c>mediawiki/services/foo</c>.</summary>
    [MaxLength(512)]
    public string? Project { get; init; }

    /// <summary>Destination branch, short name (<c>master</c>, not <c>refs/heads/master</c>).</summary>
    [Description("Destination branch, short name (master, not refs/heads/master).")]
    [MaxLength(512)]
    public string? Branch { get; init; }

    /// <summary>The change's number.</summary>
    [Description("The change's number.")]
    [Range(1, int.MaxValue)]
    public int? ChangeNumber { get; init; }

    /// <summary>The change's Change-Id, <c>I</c> followed by 40 hex digits.</summary>
    [Description("The change's Change-Id, I followed by 40 hex digits.")]
    [RegularExpression(ContractPatterns.ChangeId)]
    public string? ChangeId { get; init; }

    /// <summary>The patch set's number within the change.</summary>
    [Description("The patch set's number within the change.")]
    [Range(1, int.MaxValue)]
    public int? PatchSetNumber { get; init; }

    /// <summary>The patch set's commit SHA.</summary>
    [Description("The patch set's commit SHA.")]
    [RegularExpression(ContractPatterns.GitSha)]
    public string? Revision { get; init; }

    /// <summary>
    /// The ref to fetch: the patch set ref (<c>refs/changes/34/1234/2</c>) for change events,
    /// the updated ref (<c>refs/heads/master</c>) for <c>ref-updated</c>.
    /// </summary>
    [Description("The ref to fetch: refs/changes/XX/N/P for change events, the updated ref for ref-updated.")]
    [MaxLength(1024)]
    public string? Ref { get; init; }

    /// <summary>For <c>ref-updated</c>: the update itself.</summary>
    [Description("For ref-updated: the update itself.")]
    public GerritRefUpdate? RefUpdate { get; init; }

    /// <summary>For <c>change-merged</c>: the branch tip after the merge (may differ from <see cref="Revision"/> when Gerrit rebased or merged).</summary>
    [Description("change-merged only: the branch tip after the merge; may differ from 'revision' when Gerrit rebased or merged.")]
    [RegularExpression(ContractPatterns.GitSha)]
    public string? NewRev { get; init; }

    /// <summary>For <c>comment-added</c>: the full change message, e.g. <c>"Patch Set 2:\n\nrecheck"</c>.</summary>
    [Description("comment-added only: the full change message, e.g. \"Patch Set 2:\\n\\nrecheck\".")]
    public string? Comment { get; init; }

    /// <summary>The change's subject line.</summary>
    [Description("The change's subject line.")]
    [MaxLength(4096)]
    public string? Subject { get; init; }

    /// <summary>The change's web URL.</summary>
    [Description("The change's web URL.")]
    [MaxLength(2048)]
    public string? ChangeUrl { get; init; }

    /// <summary>The comment's author (<c>comment-added</c>) or the patch set's commit author.</summary>
    [Description("The comment's author (comment-added) or the patch set's commit author.")]
    public Account? Author { get; init; }

    /// <summary>Who uploaded the patch set.</summary>
    [Description("Who uploaded the patch set.")]
    public Account? Uploader { get; init; }

    /// <summary>Who submitted (<c>change-merged</c>) or pushed (<c>ref-updated</c>).</summary>
    [Description("Who submitted (change-merged) or pushed (ref-updated).")]
    public Account? Submitter { get; init; }

    /// <summary>Gerrit's <c>eventCreatedOn</c> (whole seconds); the time the gateway received the event when Gerrit gave none.</summary>
    [Description("Gerrit's eventCreatedOn (whole seconds); when Gerrit gave none, the time the gateway received it.")]
    public required DateTimeOffset EventCreatedOn { get; init; }

    /// <summary>True when the gateway recovered this event after a gap (disconnect, <c>dropped-output</c>) rather than receiving it live.</summary>
    [Description("True when the gateway recovered the event after a gap in the stream rather than receiving it live.")]
    public bool CaughtUp { get; init; }

    /// <summary>How the gateway got the event.</summary>
    [Description("How the gateway got the event.")]
    public required GerritEventSource Source { get; init; }

    /// <summary>Gerrit's <c>instanceId</c>, when the server sets one.</summary>
    [Description("Gerrit's instanceId, when the server sets one.")]
    [MaxLength(256)]
    public string? InstanceId { get; init; }

    /// <summary>The event exactly as Gerrit sent it (for <c>rest-catchup</c>, the event the gateway synthesized in Gerrit's shape).</summary>
    [Description("The event's JSON object as Gerrit sent it (for rest-catchup, synthesized in Gerrit's stream-events shape).")]
    public required JsonElement Raw { get; init; }
}

/// <summary>A <c>refUpdate</c> of a <c>ref-updated</c> event. An all-zero <c>oldRev</c> means created, an all-zero <c>newRev</c> deleted.</summary>
[Description("A ref update. An all-zero oldRev means the ref was created, an all-zero newRev that it was deleted.")]
public sealed record GerritRefUpdate
{
    /// <summary>The full ref name, e.g. <c>refs/heads/master</c>.</summary>
    [Description("The full ref name, e.g. refs/heads/master.")]
    [MaxLength(1024)]
    public required string RefName { get; init; }

    /// <summary>SHA before the update.</summary>
    [Description("SHA before the update.")]
    [RegularExpression(ContractPatterns.GitSha)]
    public required string OldRev { get; init; }

    /// <summary>SHA after the update.</summary>
    [Description("SHA after the update.")]
    [RegularExpression(ContractPatterns.GitSha)]
    public required string NewRev { get; init; }
}

/// <summary>How the gateway got a Gerrit event.</summary>
[Description("How the gateway got the event: stream (SSH stream-events), events-log (the events-log plugin, after a gap), rest-catchup (synthesized from a REST query after a gap), webhook (the webhooks plugin).")]
public enum GerritEventSource
{
    /// <summary>Live, from <c>gerrit stream-events</c> over SSH.</summary>
    Stream,

    /// <summary>Replayed from the events-log plugin after a gap.</summary>
    EventsLog,

    /// <summary>Synthesized from a REST query for changes updated since the last event seen.</summary>
    RestCatchup,

    /// <summary>Posted by the webhooks plugin.</summary>
    Webhook,
}
