using Confluent.Kafka;
using Slipway.Contracts;

namespace Slipway.Bench.Chaos;

/// <summary>
/// Reads <c>pipeline.events</c> from the start on its own thread. The campaign uses events only to learn which runs
/// exist and what they published; whether an effect happened once is checked on the effect itself.
/// </summary>
public sealed class EventRecorder : IDisposable
{
    private readonly List<(DateTime Seen, EventEnvelope Event)> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public EventRecorder(string bootstrap, string topic, string group)
    {
        _thread = new Thread(() =>
        {
            using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
            }).Build();
            consumer.Subscribe(topic);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value })
                        lock (_events) _events.Add((DateTime.UtcNow, EventEnvelope.Parse(value)));
                }
                catch (Exception e) when (e is ConsumeException or InvalidEventException) { }
            }
            consumer.Close();
        }) { IsBackground = true, Name = "chaos-recorder" };
        _thread.Start();
    }

    /// <summary>Every event seen so far, each id once.</summary>
    public IReadOnlyList<EventEnvelope> Events { get { lock (_events) return _events.Select(e => e.Event).DistinctBy(e => e.Id).ToList(); } }

    /// <summary>When the first event after <paramref name="after"/> was seen (each id's first copy), or null when none was.</summary>
    public DateTime? FirstSeenAfter(DateTime after)
    {
        lock (_events)
            return _events.DistinctBy(e => e.Event.Id).Where(e => e.Seen > after).Select(e => (DateTime?)e.Seen).FirstOrDefault();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
