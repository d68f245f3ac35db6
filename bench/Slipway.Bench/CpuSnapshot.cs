namespace Slipway.Bench;

/// <summary>
/// CPU time used so far by threads of processes, read from /proc (Linux), grouped by thread name: two snapshots give
/// where a run's CPU went (the consumer loop, the thread pool, librdkafka's threads, Postgres backends).
/// </summary>
public sealed class CpuSnapshot
{
    // Linux reports utime and stime in clock ticks of 1/100 s (USER_HZ) on every platform .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly Dictionary<(int Pid, int Tid), (string Group, long Ticks)> _threads = [];

    /// <summary>Reads every thread of <paramref name="pids"/>; <paramref name="label"/> names the process in the groups.</summary>
    public static CpuSnapshot Take(IEnumerable<(int Pid, string Label)> pids)
    {
        var snapshot = new CpuSnapshot();
        foreach (var (pid, label) in pids)
        {
            string[] tasks;
            try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var task in tasks)
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    // "tid (comm) state ppid ..."; comm may hold spaces and parentheses, so split at the last ')'.
                    var open = stat.IndexOf('(', StringComparison.Ordinal);
                    var close = stat.LastIndexOf(')');
                    var comm = stat[(open + 1)..close];
                    var fields = stat[(close + 2)..].Split(' ');
                    var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                        + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
                    snapshot._threads[(pid, int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture))] =
                        ($"{label}: {Group(comm)}", ticks);
                }
                catch (IOException) { } // the thread ended meanwhile
                catch (UnauthorizedAccessException) { }
            }
        }
        return snapshot;
    }

    /// <summary>Seconds of CPU per group between <paramref name="before"/> and this snapshot (threads born since count from zero).</summary>
    public IReadOnlyList<(string Group, double Seconds)> Since(CpuSnapshot before) =>
        [.. _threads
            .Select(t => (t.Value.Group, Ticks: t.Value.Ticks - (before._threads.TryGetValue(t.Key, out var b) ? b.Ticks : 0)))
            .GroupBy(t => t.Group)
            .Select(g => (g.Key, g.Sum(t => t.Ticks) / TicksPerSecond))
            .Where(g => g.Item2 > 0)
            .OrderByDescending(g => g.Item2)];

    // Thread names carry numbers (rdk:broker1001, .NET TP Worker): keep the kind.
    private static string Group(string comm) => comm.StartsWith("rdk:", StringComparison.Ordinal)
        ? "librdkafka " + new string([.. comm[4..].TakeWhile(char.IsLetter)])
        : comm.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ');
}
