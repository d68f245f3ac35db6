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

    public static void ObserveLag(Func<long> lag) =>
        Meter.CreateObservableGauge("slipway.messaging.consumer_lag", lag, description: "messages behind the partition ends");

    public static void ObserveOutboxDepth(Func<long> depth) =>
        Meter.CreateObservableGauge("slipway.messaging.outbox_depth", depth, description: "events waiting in the outbox");

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
