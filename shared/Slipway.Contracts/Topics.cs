namespace Slipway.Contracts;

/// <summary>Default topic names; <c>Kafka:TopicPrefix</c> is prepended verbatim.</summary>
public static class Topics
{
    public const string GerritEvents = "gerrit.events";
    public const string PipelineEvents = "pipeline.events";
    public const string DeadLetter = "pipeline.deadletter";
}
