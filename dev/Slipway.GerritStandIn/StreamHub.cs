using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Slipway.GerritStandIn;

/// <summary>
/// The live side of `gerrit stream-events`, as Gerrit's StreamEvents command does it: one bounded queue
/// per connection (128 events); when a queue is full the event is dropped and, before the next event
/// written to that connection, a single `dropped-output` event is emitted. `-s TYPE` filters by type.
/// </summary>
internal sealed class StreamHub
{
    public const int MaxEvents = 128;
    public const int BatchSize = 32;

    private readonly object _gate = new();
    private readonly List<Subscriber> _subscribers = [];

    private long _subscribed;

    public int Count { get { lock (_gate) return _subscribers.Count; } }

    /// <summary>Connections ever subscribed (never goes down, unlike <see cref="Count"/>).</summary>
    public long Subscribed => Interlocked.Read(ref _subscribed);

    public Subscriber Subscribe(IReadOnlyCollection<string> types)
    {
        var s = new Subscriber(types.Count == 0 ? null : new HashSet<string>(types, StringComparer.Ordinal));
        lock (_gate) _subscribers.Add(s);
        Interlocked.Increment(ref _subscribed);
        return s;
    }

    public void Unsubscribe(Subscriber s)
    {
        lock (_gate) _subscribers.Remove(s);
        s.Queue.Writer.TryComplete();
    }

    public void Publish(string type, string line)
    {
        lock (_gate)
            foreach (var s in _subscribers)
            {
                if (s.Types is not null && !s.Types.Contains(type)) continue;
                if (!s.Queue.Writer.TryWrite(line)) s.Dropped = true;
            }
    }

    /// <summary>Sends a line exactly as given to every connection, whatever its type filter (for malformed-input tests).</summary>
    public void PublishRaw(string line)
    {
        lock (_gate)
            foreach (var s in _subscribers)
                if (!s.Queue.Writer.TryWrite(line)) s.Dropped = true;
    }

    /// <summary>
    /// Sends <paramref name="line"/> as it is on every connection, waiting while a connection's queue is full instead of
    /// dropping: a replay that goes exactly as fast as the connections take it (the benchmark's prepared lines).
    /// </summary>
    public async Task PublishRawWaitingAsync(string line, CancellationToken ct)
    {
        Subscriber[] all;
        lock (_gate) all = [.. _subscribers];
        foreach (var s in all)
        {
            try { await s.Queue.Writer.WriteAsync(line, ct); }
            catch (ChannelClosedException) { /* the connection ended meanwhile */ }
        }
    }

    /// <summary>Makes every connection report `dropped-output` now, as if its queue had overflowed.</summary>
    public void DropAll()
    {
        lock (_gate)
            foreach (var s in _subscribers) s.ForceDroppedOutput = true;
        lock (_gate)
            foreach (var s in _subscribers) s.Wake.Writer.TryWrite(true);
    }

    /// <summary>Ends every live stream (the HTTP responses the forced commands read from).</summary>
    public void EndAll()
    {
        List<Subscriber> all;
        lock (_gate) { all = [.. _subscribers]; _subscribers.Clear(); }
        foreach (var s in all) { s.Queue.Writer.TryComplete(); s.Ended.Cancel(); }
    }

    public static string DroppedOutputJson(long eventCreatedOn) =>
        new JsonObject { ["type"] = "dropped-output", ["eventCreatedOn"] = eventCreatedOn }.ToJsonString();

    internal sealed class Subscriber(HashSet<string>? types)
    {
        public HashSet<string>? Types { get; } = types;
        public Channel<string> Queue { get; } = Channel.CreateBounded<string>(new BoundedChannelOptions(MaxEvents)
        { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        public Channel<bool> Wake { get; } = Channel.CreateUnbounded<bool>();
        public volatile bool Dropped;
        public volatile bool ForceDroppedOutput;
        public CancellationTokenSource Ended { get; } = new();
    }
}
