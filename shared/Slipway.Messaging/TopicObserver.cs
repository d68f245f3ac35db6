using Confluent.Kafka;
using Slipway.Contracts;

namespace Slipway.Messaging;

/// <summary>
/// Reads a topic from its start in a consumer group of its own, as an analytics consumer would (e.g. the demo's
/// watcher): no inbox, no commits, nothing written back. Not for services, which consume through the inbox.
/// </summary>
public sealed class TopicObserver : IDisposable
{
    private readonly IConsumer<string?, byte[]> _consumer;

    public TopicObserver(string bootstrapServers, string topic, string groupPrefix)
    {
        _consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = groupPrefix + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        _consumer.Subscribe(topic);
    }

    /// <summary>The next event, or null when none arrived within <paramref name="wait"/> or the message was not an event.</summary>
    public EventEnvelope? Next(TimeSpan wait)
    {
        ConsumeResult<string?, byte[]>? result;
        try { result = _consumer.Consume(wait); }
        catch (ConsumeException) { return null; } // the topic may not exist yet
        if (result?.Message?.Value is not { } value) return null;
        try { return EventEnvelope.Parse(value); }
        catch (InvalidEventException) { return null; }
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}
