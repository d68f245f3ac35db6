using System.Globalization;
using System.Text.RegularExpressions;

namespace Slipway.Bench;

/// <summary>
/// The plan job's parts (claim, checkout with git init / lookup / fetch / export, plan, commit), read from the builder's
/// <c>/metrics</c> (<c>slipway_builder_plan_part_milliseconds</c>) before and after one run, so each run's parts are its
/// own. Adds them to the <see cref="HopTrace"/> rows under "plan job:".
/// </summary>
public static partial class PlanParts
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Sum (ms) and count of each part so far.</summary>
    public static async Task<Dictionary<string, (double Sum, long Count)>> SnapshotAsync(PipelineStack stack)
    {
        var text = await Http.GetStringAsync(stack.UrlOf("builder") + "/metrics");
        var parts = new Dictionary<string, (double Sum, long Count)>();
        foreach (Match m in Sample().Matches(text))
        {
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

    [GeneratedRegex("""^slipway_builder_plan_part_milliseconds_(?<kind>sum|count)\{[^}]*part="(?<part>[a-z-]+)"[^}]*\}\s+(?<value>[0-9.eE+-]+)""", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
