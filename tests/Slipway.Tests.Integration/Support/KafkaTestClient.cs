using System.Text;
using Confluent.Kafka;
using Slipway.Contracts;

namespace Slipway.Tests.Integration.Support;

/// <summary>Produces test events and reads topics back, like any outside Kafka client would.</summary>
public sealed class KafkaTestClient : IDisposable
{
    private readonly IProducer<string, byte[]> _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
    {
        BootstrapServers = TestInfrastructure.KafkaBootstrap,
        EnableIdempotence = true,
        Acks = Acks.All,
    }).Build();

    public async Task ProduceAsync(string topic, string key, EventEnvelope envelope, string? traceParent = null)
    {
        var headers = new Headers();
        if (traceParent is not null) headers.Add("traceparent", Encoding.UTF8.GetBytes(traceParent));
        await _producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = envelope.ToUtf8Json(), Headers = headers });
    }

    public async Task ProduceRawAsync(string topic, string key, byte[] value) =>
        await _producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value });

    /// <summary>Reads a topic from the start until <paramref name="expected"/> messages arrived (only those
    /// <paramref name="counts"/> accepts, when given) or the time is up; returns every message read.</summary>
    /// <remarks>The reader assigns itself every partition instead of joining a consumer group: a group join waits for
    /// the coordinator and a rebalance, which on a loaded machine sometimes outlasted the whole timeout.</remarks>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string topic, int expected, TimeSpan timeout,
        Func<ConsumeResult<string, byte[]>, bool>? counts = null)
    {
        var counted = 0;
        var deadline = DateTime.UtcNow + timeout;
        var results = new List<ConsumeResult<string, byte[]>>();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrap,
            GroupId = TestInfrastructure.UniqueName("reader-"),
            EnableAutoCommit = false,
        }).Build();
        var partitions = PartitionsOf(consumer.Handle, topic, deadline);
        if (partitions.Count == 0) return results;
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        while (DateTime.UtcNow < deadline && counted < expected)
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null || r.IsPartitionEOF) continue;
                results.Add(r);
                if (counts is null || counts(r)) counted++;
            }
            catch (ConsumeException) { } // a partition's leader may be moving
        }
        consumer.Close();
        return results;
    }

    /// <summary>The topic's partitions, waiting (until the deadline) for the topic to exist.</summary>
    /// <remarks>Asked through the consumer's own handle: a consumer never creates a topic by asking for it.</remarks>
    private static List<Partition> PartitionsOf(Handle consumer, string topic, DateTime deadline)
    {
        using var admin = new DependentAdminClientBuilder(consumer).Build();
        while (true)
        {
            try
            {
                var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.SingleOrDefault(t => t.Topic == topic);
                if (meta is { Error.IsError: false, Partitions.Count: > 0 })
                    return meta.Partitions.Select(p => new Partition(p.PartitionId)).ToList();
            }
            catch (KafkaException) { } // the broker is not answering yet
            if (DateTime.UtcNow >= deadline) return [];
            Thread.Sleep(200);
        }
    }

    public static string? Header(ConsumeResult<string, byte[]> r, string key) =>
        r.Message.Headers?.TryGetLastBytes(key, out var b) == true ? Encoding.UTF8.GetString(b) : null;

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
