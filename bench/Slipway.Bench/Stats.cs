namespace Slipway.Bench;

/// <summary>Median and nearest-rank percentiles of a sample (with 10 samples, p99 is the largest).</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 0.5);

    /// <summary>"median X, p99 Y, n=N" in the unit given, e.g. ms or s.</summary>
    public static string Describe(IReadOnlyCollection<double> values, string unit, string format = "F0") =>
        $"median {Median(values).ToString(format)} {unit}, p99 {Percentile(values, 0.99).ToString(format)} {unit} (n={values.Count})";
}
