using Confluent.Kafka;
using Slipway.Contracts;

namespace Slipway.Tests.Integration.Support;

/// <summary>Reads a topic from its start for as long as a test runs, keeping every event (a consumer group joins once, not per read).</summary>
public sealed class TopicRecorder : IDisposable
{
    private readonly List<EventEnvelope> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public TopicRecorder(string topic)
    {
        _thread = new Thread(() =>
        {
            using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = TestInfrastructure.KafkaBootstrap, GroupId = TestInfrastructure.UniqueName("recorder-"),
                AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
            }).Build();
            consumer.Subscribe(topic);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value })
                        lock (_events) _events.Add(EventEnvelope.Parse(value));
                }
                catch (ConsumeException) { } // the topic may not exist yet
                catch (InvalidEventException) { }
            }
            consumer.Close();
        }) { IsBackground = true, Name = "recorder " + topic };
        _thread.Start();
    }

    public IReadOnlyList<EventEnvelope> Events { get { lock (_events) return _events.ToList(); } }

    public async Task<EventEnvelope> WaitForAsync(string what, Func<EventEnvelope, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Events.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{what}: not within {timeout}");
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
