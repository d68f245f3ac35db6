using System.Globalization;
using System.Text.RegularExpressions;

namespace Slipway.Bench;

/// <summary>
/// A service's "where the time goes" histogram (<c>slipway_&lt;service&gt;_&lt;work&gt;_part_milliseconds</c> by
/// <c>part</c>: the builder's plan job, the tester's smoke step), read from its <c>/metrics</c> before and after one run,
/// so each run's parts are its own.
/// </summary>
public sealed partial class ServiceParts(PipelineStack stack, string service, string metric)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The builder's plan job: claim, checkout (git init / lookup / fetch / export), plan, commit.</summary>
    public static ServiceParts PlanJob(PipelineStack stack) => new(stack, "builder", "slipway_builder_plan_part_milliseconds");

    /// <summary>The tester's smoke step: policy, network, service, forwarder, ready, checks, cleanup.</summary>
    public static ServiceParts SmokeStep(PipelineStack stack) => new(stack, "tester", "slipway_tester_smoke_part_milliseconds");

    /// <summary>Sum (ms) and count of each part so far.</summary>
    public async Task<Dictionary<string, (double Sum, long Count)>> SnapshotAsync()
    {
        var text = await Http.GetStringAsync(stack.UrlOf(service) + "/metrics");
        var parts = new Dictionary<string, (double Sum, long Count)>();
        foreach (Match m in Sample().Matches(text))
        {
            if (m.Groups["metric"].Value != metric) continue;
            var part = m.Groups["part"].Value;
            var value = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            var (sum, count) = parts.GetValueOrDefault(part);
            parts[part] = m.Groups["kind"].Value == "sum" ? (value, count) : (sum, (long)value);
        }
        return parts;
    }

    /// <summary>What each part took between the two snapshots (a part run once: its own time; several: their total).</summary>
    public static IEnumerable<(string Part, double Ms)> Between(Dictionary<string, (double Sum, long Count)> before,
        Dictionary<string, (double Sum, long Count)> after) =>
        after.Where(a => a.Value.Count > before.GetValueOrDefault(a.Key).Count)
            .Select(a => (a.Key, a.Value.Sum - before.GetValueOrDefault(a.Key).Sum));

    [GeneratedRegex("""^(?<metric>slipway_[a-z_]+_part_milliseconds)_(?<kind>sum|count)\{[^}]*part="(?<part>[a-z-]+)"[^}]*\}\s+(?<value>[0-9.eE+-]+)""", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
