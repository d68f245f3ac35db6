using Slipway.Hosting.Telemetry;

namespace Slipway.Builder;

/// <summary>The builder's spans and metrics beyond the shared host's.</summary>
public static class BuilderTelemetry
{
    /// <summary>
    /// Where a plan job's time goes: start-second claim, git init, cache lookup, fetch, export, planning, and the commit
    /// that writes <c>run.started</c> and schedules the first builds (<c>slipway_builder_plan_part_milliseconds</c>).
    /// </summary>
    public static readonly WorkParts Plan = new("Slipway.Builder", "plan", "slipway.builder.plan.part",
        "Time of one part of a plan job (consumed Gerrit event → run.started written)");

    public static PartTimer Part(string part) => Plan.Part(part);
}
