using System.Diagnostics;
using System.Diagnostics.Metrics;

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

    /// <summary>Times one part until disposed: a span named "plan PART" and a histogram sample tagged with the part.</summary>
    public static PartTimer Part(string part) => new(part, Source.StartActivity("plan " + part));

    public readonly struct PartTimer(string part, Activity? span) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            span?.Dispose();
            PlanPart.Record(Stopwatch.GetElapsedTime(_started).TotalMilliseconds, new KeyValuePair<string, object?>("part", part));
        }
    }
}
