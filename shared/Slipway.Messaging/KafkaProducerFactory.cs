using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Slipway.Messaging;

/// <summary>The one idempotent producer of a process (shared by the outbox relay and the dead-letter path).</summary>
public sealed class KafkaProducerFactory : IDisposable
{
    private readonly Lazy<IProducer<string, byte[]>> _producer;

    public KafkaProducerFactory(IOptions<KafkaOptions> options, ILogger<KafkaProducerFactory> logger)
    {
        _producer = new Lazy<IProducer<string, byte[]>>(() =>
            new ProducerBuilder<string, byte[]>(KafkaLatency.Apply(new ProducerConfig
            {
                BootstrapServers = options.Value.BootstrapServers,
                // Idempotence: retries inside the client never duplicate or reorder a partition's messages.
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 2,
                MessageMaxBytes = Math.Max(options.Value.MaxMessageBytes + 64 * 1024, 1_000_000),
                ClientId = "slipway-producer",
            }, options.Value))
            .SetLogHandler((_, m) => logger.Log(m.Level <= SyslogLevel.Error ? LogLevel.Warning : LogLevel.Debug,
                "kafka producer: {Facility} {Message}", m.Facility, m.Message))
            .Build());
    }

    public IProducer<string, byte[]> Producer => _producer.Value;

    /// <summary>How many brokers answer a metadata request on the producer's connection (readiness checks).</summary>
    public int CountBrokers(TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(Producer.Handle).Build();
        return admin.GetMetadata(timeout).Brokers.Count;
    }

    public void Dispose()
    {
        if (!_producer.IsValueCreated) return;
        _producer.Value.Flush(TimeSpan.FromSeconds(5));
        _producer.Value.Dispose();
    }
}
