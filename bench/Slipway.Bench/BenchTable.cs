namespace Slipway.Bench;

/// <summary>
/// The figures of issue 13, filled in by whichever measurements ran, printed at the end as the issue's table
/// (figure, measured, target, met). A figure not measured in this run says so.
/// </summary>
public sealed class BenchTable
{
    public static readonly (string Key, string Figure, string Target)[] Rows =
    [
        ("patchset", "patch-set run, run.started → smoke-test.succeeded, over the same steps by hand", "≤ 1.0x"),
        ("publish", "publish of a merged image, over docker push by hand (same image, same registry)", "≤ 1.2x"),
        ("event-to-build", "Gerrit event → first build.started, p99", "≤ 100 ms"),
        ("gateway", "gateway ingest, SSH stream → acknowledged Kafka writes", "≥ 10,000 events/s"),
        ("host", "messaging host end to end, one instance", "≥ 20,000 events/s"),
        ("burst", "changes uploaded at once, wall time over N × the by-hand time", "≤ 0.6"),
        ("hop-at-scale", "hop latency with 100,000 finished runs per table, over empty tables", "≤ 1.2x"),
        ("memory", "each service's peak RSS during the burst", "≤ 100 MB each"),
    ];

    private readonly Dictionary<string, (string Measured, bool? Met)> _values = new();

    public void Set(string key, string measured, bool? met)
    {
        if (Rows.All(r => r.Key != key)) throw new ArgumentException($"unknown figure {key}", nameof(key));
        _values[key] = (measured, met);
    }

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("| figure | measured | target | met |");
        output.WriteLine("|---|---|---|---|");
        foreach (var (key, figure, target) in Rows)
        {
            var (measured, met) = _values.TryGetValue(key, out var v) ? v : ("not measured in this run", null);
            output.WriteLine($"| {figure} | {measured} | {target} | {(met is null ? "–" : met.Value ? "yes" : "**no**")} |");
        }
    }
}
