using System.Diagnostics;
using System.Diagnostics.Metrics;
using Slipway.Hosting.Telemetry;

namespace Slipway.Tester;

/// <summary>
/// Where a smoke step's time goes: one span and one histogram sample per part (image policy, network, service
/// container, forwarder, readiness, checks, clean-up). Served on <c>/metrics</c> as
/// <c>slipway_tester_smoke_part_milliseconds</c> by <c>part</c>; the bench sets it beside the same work by hand.
/// </summary>
public static class TesterTelemetry
{
    private static readonly Meter Meter = new("Slipway.Tester");
    public static readonly ActivitySource Source = new("Slipway.Tester");
    private static readonly Histogram<double> SmokePart = Meter.CreateHistogram<double>("slipway.tester.smoke.part", "ms",
        "Time of one part of a smoke step");

    /// <summary>Times one part of a smoke step until disposed.</summary>
    public static PartTimer Part(string part) => PartTimer.Start(Source, SmokePart, "smoke", part);
}
