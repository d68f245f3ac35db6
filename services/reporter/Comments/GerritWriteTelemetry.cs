using System.Diagnostics.Metrics;

namespace Slipway.Reporter.Comments;

/// <summary>
/// How Gerrit writes fare: how many comments wait for Gerrit right now (in this instance) and how
/// often a write was tried again. A non-zero gauge for long means Gerrit is down or refusing.
/// </summary>
public static class GerritWriteTelemetry
{
    private static readonly Meter Meter = new("Slipway.Reporter");
    private static int _waiting;

    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("slipway.reporter.gerrit_write_retries",
        description: "Gerrit writes tried again after a 5xx, a timeout or a refused connection");

    private static readonly ObservableGauge<int> Waiting = Meter.CreateObservableGauge("slipway.reporter.gerrit_writes_waiting",
        () => Volatile.Read(ref _waiting), description: "comments and votes waiting for Gerrit to answer");

    public static void StartedWaiting() => Interlocked.Increment(ref _waiting);

    public static void StoppedWaiting() => Interlocked.Decrement(ref _waiting);
}
