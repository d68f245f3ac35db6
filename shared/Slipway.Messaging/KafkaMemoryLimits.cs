using Confluent.Kafka;

namespace Slipway.Messaging;

/// <summary>
/// Bounds what a service's Kafka consumer keeps in memory (issue 13, docs/benchmarks.md "Memory"). librdkafka
/// prefetches into its local queue until it holds 100,000 messages or 64 MB (queued.min.messages,
/// queued.max.messages.kbytes), which a service catching up on a backlog fills while it handles one batch of at most
/// Kafka:MaxBatchSize events (at most Kafka:MaxBatchBytes) per database transaction at a few thousand events a second. A few batches ahead keep the
/// handler as busy, in a fraction of the memory.
/// </summary>
public static class KafkaMemoryLimits
{
    /// <summary>Prefetched messages kept at most, in KB (a 1 KB event: 4,000 of them, about 20 batches).</summary>
    public const int ConsumerQueueKilobytes = 4 * 1024;

    public static ConsumerConfig Apply(ConsumerConfig config, KafkaOptions options)
    {
        // Room for at least one event of the largest size accepted (Kafka:MaxMessageBytes).
        config.QueuedMaxMessagesKbytes = Math.Max(ConsumerQueueKilobytes, options.MaxMessageBytes / 1024 + 64);
        return config;
    }
}
