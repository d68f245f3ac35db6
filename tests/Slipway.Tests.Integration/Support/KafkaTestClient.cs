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

    /// <summary>Reads a topic from the start until <paramref name="expected"/> messages arrived or the time is up (then returns what arrived).</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string topic, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrap,
            GroupId = TestInfrastructure.UniqueName("reader-"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && results.Count < expected)
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is not null) results.Add(r);
            }
            catch (ConsumeException) { } // the topic may not exist yet
        }
        consumer.Close();
        return results;
    }

    public static string? Header(ConsumeResult<string, byte[]> r, string key) =>
        r.Message.Headers?.TryGetLastBytes(key, out var b) == true ? Encoding.UTF8.GetString(b) : null;

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
