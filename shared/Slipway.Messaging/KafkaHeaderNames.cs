namespace Slipway.Messaging;

/// <summary>Kafka message headers Slipway sets (CloudEvents Kafka binding names where one exists).</summary>
public static class KafkaHeaderNames
{
    public const string ContentType = "content-type";
    public const string CloudEventsContentType = "application/cloudevents+json; charset=utf-8";
    public const string EventId = "ce_id";
    public const string EventType = "ce_type";
    public const string TraceParent = "traceparent";

    public const string DeadLetterReason = "slipway-dlq-reason";
    public const string DeadLetterAttempts = "slipway-dlq-attempts";
    public const string DeadLetterTopic = "slipway-dlq-topic";
    public const string DeadLetterPartition = "slipway-dlq-partition";
    public const string DeadLetterOffset = "slipway-dlq-offset";
    public const string DeadLetterConsumer = "slipway-dlq-consumer";
    public const string DeadLetterTime = "slipway-dlq-time";

    /// <summary>"true" when the dead-letter record holds a summary of the event instead of the event (it was too large).</summary>
    public const string DeadLetterTruncated = "slipway-dlq-truncated";
}
