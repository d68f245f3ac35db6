using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Slipway.Hosting.Telemetry;

/// <summary>
/// The parts of one kind of longer work (a plan job, a smoke step) of one service: each part timed until disposed
/// becomes a span named "<c>{work} {part}</c>" of the service's source and one sample of the histogram
/// <paramref name="histogram"/> (ms) tagged <c>part</c>, served on <c>/metrics</c> (the bench reads it there).
/// </summary>
public sealed class WorkParts(string service, string work, string histogram, string description)
{
    private readonly ActivitySource _source = new(service);
    private readonly Histogram<double> _histogram = new Meter(service).CreateHistogram<double>(histogram, "ms", description);

    /// <summary>Times one part until disposed.</summary>
    public PartTimer Part(string part) => new(_histogram, part, _source.StartActivity(work + " " + part));
}

/// <summary>One part of a <see cref="WorkParts"/> being timed: its span, and its histogram sample when disposed.</summary>
public readonly struct PartTimer(Histogram<double> histogram, string part, Activity? span) : IDisposable
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public void Dispose()
    {
        span?.Dispose();
        histogram.Record(Stopwatch.GetElapsedTime(_started).TotalMilliseconds, new KeyValuePair<string, object?>("part", part));
    }
}
