using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace Slipway.Messaging;

/// <summary>Sends a message that cannot be handled to the dead-letter topic, unchanged, with why in its headers.</summary>
public sealed class DeadLetterPublisher(KafkaProducerFactory producers, TopicNames topics)
{
    public async Task PublishAsync(ConsumeResult<string, byte[]> failed, string consumer, string reason, int attempts,
        CancellationToken ct)
    {
        var headers = new Headers();
        foreach (var h in failed.Message.Headers ?? []) headers.Add(h.Key, h.GetValueBytes());
        // Reasons are short: headers are not the place for stack traces.
        Add(headers, KafkaHeaderNames.DeadLetterReason, reason.Length > 2000 ? reason[..2000] : reason);
        Add(headers, KafkaHeaderNames.DeadLetterAttempts, attempts.ToString(CultureInfo.InvariantCulture));
        Add(headers, KafkaHeaderNames.DeadLetterTopic, failed.Topic);
        Add(headers, KafkaHeaderNames.DeadLetterPartition, failed.Partition.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, KafkaHeaderNames.DeadLetterOffset, failed.Offset.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, KafkaHeaderNames.DeadLetterConsumer, consumer);
        Add(headers, KafkaHeaderNames.DeadLetterTime, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        await producers.Producer.ProduceAsync(topics.DeadLetter,
            new Message<string, byte[]> { Key = failed.Message.Key, Value = failed.Message.Value, Headers = headers }, ct);
        MessagingTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("consumer", consumer));
    }

    private static void Add(Headers headers, string key, string value)
    {
        headers.Remove(key);
        headers.Add(key, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>Most bytes of a refused event's payload kept in its dead-letter record when the whole would be refused too.</summary>
    public const int TruncatedPayloadBytes = 64 * 1024;

    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    /// <summary>
    /// An outbox event Kafka refused for good (e.g. over the size limit): sent to the dead-letter topic with the reason;
    /// if that is refused as well, a small JSON record with the reason, the event's id, type and topic and the start of its payload.
    /// </summary>
    public async Task PublishRefusedAsync(string topic, string key, string eventId, string eventType, byte[] payload, string reason,
        CancellationToken ct)
    {
        var headers = new Headers();
        Add(headers, KafkaHeaderNames.EventId, eventId);
        Add(headers, KafkaHeaderNames.EventType, eventType);
        Add(headers, KafkaHeaderNames.DeadLetterReason, reason.Length > 2000 ? reason[..2000] : reason);
        Add(headers, KafkaHeaderNames.DeadLetterAttempts, "1");
        Add(headers, KafkaHeaderNames.DeadLetterTopic, topic);
        Add(headers, KafkaHeaderNames.DeadLetterConsumer, "outbox");
        Add(headers, KafkaHeaderNames.DeadLetterTime, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        try
        {
            await producers.Producer.ProduceAsync(topics.DeadLetter, new Message<string, byte[]> { Key = key, Value = payload, Headers = headers }, ct);
        }
        catch (ProduceException<string, byte[]> e) when (OutboxRelay.IsPermanentRefusal(e.Error.Code))
        {
            var record = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new RefusedEventRecord(eventId, eventType, topic, reason,
                payload.Length, Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, TruncatedPayloadBytes))), WebJson);
            Add(headers, KafkaHeaderNames.DeadLetterTruncated, "true");
            await producers.Producer.ProduceAsync(topics.DeadLetter, new Message<string, byte[]> { Key = key, Value = record, Headers = headers }, ct);
        }
        MessagingTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("consumer", "outbox"));
    }
}

/// <summary>What the dead-letter topic keeps of an event too large to keep whole.</summary>
public sealed record RefusedEventRecord(string EventId, string EventType, string Topic, string Reason, int PayloadBytes, string PayloadStart);
