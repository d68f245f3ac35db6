using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Slipway.GerritGateway;

/// <summary>The gateway's metrics: events in/out per type, duplicates, malformed lines, reconnects.</summary>
public static class GatewayTelemetry
{
    private static readonly Meter Meter = new("Slipway.GerritGateway");

    /// <summary>Spans of the gateway: "gerrit ingest" for each event, the root of the trace of whatever the event starts.</summary>
    public static readonly ActivitySource Source = new("Slipway.GerritGateway");
    public static readonly Counter<long> EventsIn = Meter.CreateCounter<long>("slipway.gateway.events_in");
    public static readonly Counter<long> EventsOut = Meter.CreateCounter<long>("slipway.gateway.events_out");
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("slipway.gateway.duplicates");
    public static readonly Counter<long> Malformed = Meter.CreateCounter<long>("slipway.gateway.malformed_lines");
    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("slipway.gateway.reconnects");
    public static readonly Counter<long> CaughtUp = Meter.CreateCounter<long>("slipway.gateway.caught_up_events");
    public static readonly Counter<long> WriteFailures = Meter.CreateCounter<long>("slipway.gateway.write_failures");
    public static readonly Counter<long> CatchUps = Meter.CreateCounter<long>("slipway.gateway.catch_ups");
    public static readonly Counter<long> WebhookRequests = Meter.CreateCounter<long>("slipway.gateway.webhook_requests");
    public static readonly Histogram<double> PublishLatency = Meter.CreateHistogram<double>("slipway.gateway.publish_latency", "ms");
}
