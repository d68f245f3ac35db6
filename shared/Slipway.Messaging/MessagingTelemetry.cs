using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Slipway.Messaging;

/// <summary>The messaging host's trace source and metrics (exported by OpenTelemetry in the services).</summary>
public static class MessagingTelemetry
{
    public const string Name = "Slipway.Messaging";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Handled = Meter.CreateCounter<long>("slipway.messaging.handled", description: "events handled (committed)");
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("slipway.messaging.duplicates", description: "re-delivered events skipped by the inbox");
    public static readonly Counter<long> Retried = Meter.CreateCounter<long>("slipway.messaging.retried", description: "handler attempts retried");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("slipway.messaging.dead_lettered", description: "events sent to the dead-letter topic");
    public static readonly Counter<long> Produced = Meter.CreateCounter<long>("slipway.messaging.produced", description: "events produced by the outbox relay");

    // One gauge each, reporting every registered consumer/relay (instruments must not be created twice).
    private static readonly ConcurrentDictionary<string, Func<long>> Lags = new();
    private static readonly ConcurrentDictionary<string, Func<long>> OutboxDepths = new();

    static MessagingTelemetry()
    {
        Meter.CreateObservableGauge("slipway.messaging.consumer_lag", () => Observe(Lags, "consumer"),
            description: "messages behind the partition ends");
        Meter.CreateObservableGauge("slipway.messaging.outbox_depth", () => Observe(OutboxDepths, "schema"),
            description: "events waiting in the outbox");
    }

    public static void ObserveLag(string consumer, Func<long> lag) => Lags[consumer] = lag;

    public static void ObserveOutboxDepth(string schema, Func<long> depth) => OutboxDepths[schema] = depth;

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<string, Func<long>> sources, string tag) =>
        sources.Select(s => new Measurement<long>(s.Value(), new KeyValuePair<string, object?>(tag, s.Key)));

    /// <summary>
    /// Starts a consumer span under the producer's trace context. Without a listener (no
    /// OpenTelemetry configured) an activity is still created, so the trace id keeps
    /// flowing into the events this handler emits.
    /// </summary>
    public static Activity StartConsume(string name, string? traceParent)
    {
        ActivityContext.TryParse(traceParent, null, out var parent);
        var activity = Source.StartActivity(name, ActivityKind.Consumer, parent);
        if (activity is not null) return activity;
        activity = new Activity(name);
        if (parent != default) activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        return activity.Start();
    }
}
