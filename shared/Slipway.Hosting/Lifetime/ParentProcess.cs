using System.Globalization;

namespace Slipway.Hosting.Lifetime;

/// <summary>
/// The process that started this one, named in the environment (<see cref="PidVariable"/>, <see cref="StartTimeVariable"/>),
/// so a child can end itself when its starter dies, also by SIGKILL, which no cleanup code of the starter survives.
/// </summary>
/// <remarks>
/// A pid plus its start time (field 22 of /proc/pid/stat, clock ticks since boot) names one process for good: a pid reused
/// by a later process has a later start time. Polled rather than a pipe from the starter: the pipe's write end must stay
/// open in exactly one process, which the `sh -c exec setsid` wrapper of detached daemons and .NET's finalizers (a dropped
/// Process closes its stdin) do not guarantee, and daemons started that way must keep stdin on /dev/null.
/// PR_SET_PDEATHSIG is no option either: it fires when the starting *thread* ends, and .NET threads come and go.
/// </remarks>
public sealed record ParentProcess(int Pid, long StartTime)
{
    public const string PidVariable = "SLIPWAY_PARENT_PID";
    public const string StartTimeVariable = "SLIPWAY_PARENT_START_TIME";

    /// <summary>This process, as its children's parent.</summary>
    public static ParentProcess Current =>
        new(Environment.ProcessId, StartTimeOf(Environment.ProcessId) ?? throw new InvalidOperationException("cannot read /proc/self/stat"));

    /// <summary>The variables that tie a child to this process: set them in the child's environment.</summary>
    public static IReadOnlyDictionary<string, string> ChildEnvironment()
    {
        var current = Current;
        return new Dictionary<string, string>
        {
            [PidVariable] = current.Pid.ToString(CultureInfo.InvariantCulture),
            [StartTimeVariable] = current.StartTime.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// The parent named in the environment; null when none is (then nothing is watched: production, a terminal).
    /// Throws on a malformed value rather than silently never stopping.
    /// </summary>
    public static ParentProcess? FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var pidText = read(PidVariable);
        if (string.IsNullOrWhiteSpace(pidText)) return null;
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
            throw new ArgumentException($"{PidVariable} '{pidText}' is not a process id (an integer above 1)");
        var startText = read(StartTimeVariable);
        if (string.IsNullOrWhiteSpace(startText))
        {
            // No start time given: the parent's as it is now; already gone means the parent died before we looked.
            return new ParentProcess(pid, StartTimeOf(pid) ?? -1);
        }
        if (!long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            throw new ArgumentException($"{StartTimeVariable} '{startText}' is not a start time (clock ticks since boot)");
        return new ParentProcess(pid, start);
    }

    /// <summary>True while the very process named runs (a zombie, or a new process under the same pid, is not it).</summary>
    public bool IsAlive
    {
        get
        {
            var stat = ReadStat(Pid);
            return stat is not null && stat.Value.State is not ('Z' or 'X') && stat.Value.StartTime == StartTime;
        }
    }

    /// <summary>The start time of pid, or null when no such process exists.</summary>
    public static long? StartTimeOf(int pid) => ReadStat(pid)?.StartTime;

    private static (char State, long StartTime)? ReadStat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name is parenthesised and may hold spaces and ')': the fields after its last ')' are
        // state (field 3) ... starttime (field 22), i.e. indices 0 and 19 of what follows.
        var close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20 || fields[0].Length != 1) return null;
        return long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? (fields[0][0], start) : null;
    }

    /// <summary>Completes when the parent is gone, checking every <paramref name="interval"/>; never while it lives.</summary>
    public async Task WaitForExitAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        while (IsAlive) await timer.WaitForNextTickAsync(ct);
    }
}
