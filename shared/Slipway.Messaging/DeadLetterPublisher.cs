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
}
