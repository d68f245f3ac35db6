using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Slipway.Hosting.Telemetry;

/// <summary>
/// Times one part of a longer piece of work until disposed: a span named "<c>{work} {part}</c>" and one sample of
/// <paramref name="histogram"/> tagged <c>part</c>. The services' "where the time goes" histograms (a plan job, a smoke
/// step) are made of these; the bench reads them from <c>/metrics</c>.
/// </summary>
public readonly struct PartTimer(Histogram<double> histogram, string part, Activity? span) : IDisposable
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public static PartTimer Start(ActivitySource source, Histogram<double> histogram, string work, string part) =>
        new(histogram, part, source.StartActivity(work + " " + part));

    public void Dispose()
    {
        span?.Dispose();
        histogram.Record(Stopwatch.GetElapsedTime(_started).TotalMilliseconds, new KeyValuePair<string, object?>("part", part));
    }
}
