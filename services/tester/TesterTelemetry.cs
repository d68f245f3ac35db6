using Slipway.Hosting.Telemetry;

namespace Slipway.Tester;

/// <summary>The tester's spans and metrics beyond the shared host's.</summary>
public static class TesterTelemetry
{
    /// <summary>
    /// Where a smoke step's time goes: waiting for its warm network (made during the tests), image policy, network, service
    /// container, forwarder, readiness, checks, log tail, and the clean-up after the result
    /// (<c>slipway_tester_smoke_part_milliseconds</c>).
    /// </summary>
    public static readonly WorkParts Smoke = new("Slipway.Tester", "smoke", "slipway.tester.smoke.part", "Time of one part of a smoke step");

    public static PartTimer Part(string part) => Smoke.Part(part);
}
