namespace Slipway.Contracts;

/// <summary>
/// Default topic names; <c>Kafka:TopicPrefix</c> is prepended verbatim (prefix <c>"dev."</c> gives
/// <c>dev.gerrit.events</c>). Message keys: see <see cref="PartitionKeys"/>.
/// </summary>
public static class Topics
{
    /// <summary>Every <c>slipway.gerrit.*</c> event, keyed <c>project~change</c> (or <c>project~ref</c>).</summary>
    public const string GerritEvents = "gerrit.events";

    /// <summary>Every other Slipway event (runs, steps, approvals, rollbacks), keyed by run id.</summary>
    public const string PipelineEvents = "pipeline.events";

    /// <summary>Messages a consumer gave up on after bounded retries, with the reason in headers.</summary>
    public const string DeadLetter = "pipeline.deadletter";
}
