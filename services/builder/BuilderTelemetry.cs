using System.Diagnostics;
using System.Diagnostics.Metrics;
using Slipway.Hosting.Telemetry;

namespace Slipway.Builder;

/// <summary>
/// Where a plan job's time goes: one span and one histogram sample per part (start-second claim, git init, cache
/// lookup, fetch, export, planning, the commit that writes <c>run.started</c> and schedules the first builds). Served
/// on <c>/metrics</c> as <c>slipway_builder_plan_part_milliseconds</c> by <c>part</c>; the bench reads it to split the
/// Gerrit event → first <c>build.started</c> hop.
/// </summary>
public static class BuilderTelemetry
{
    private static readonly Meter Meter = new("Slipway.Builder");
    public static readonly ActivitySource Source = new("Slipway.Builder");
    private static readonly Histogram<double> PlanPart = Meter.CreateHistogram<double>("slipway.builder.plan.part", "ms",
        "Time of one part of a plan job (consumed Gerrit event → run.started written)");

    /// <summary>Times one part of a plan job until disposed.</summary>
    public static PartTimer Part(string part) => PartTimer.Start(Source, PlanPart, "plan", part);
}
