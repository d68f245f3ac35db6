namespace Slipway.Builder.Building.Egress;

/// <summary>
/// <c>PID:START</c> (start time from <c>/proc/PID/stat</c>) names a process on this machine so that a reused pid is
/// told apart: what a builder leaves behind (firewall rules) can be removed by the next one once its owner is gone.
/// </summary>
public static class ProcessIdentity
{
    /// <summary>This process, or null where <c>/proc</c> cannot tell.</summary>
    public static string? Current
    {
        get
        {
            var pid = Environment.ProcessId.ToString();
            return ProcessStart(pid) is { } start ? $"{pid}:{start}" : null;
        }
    }

    /// <summary>
    /// Whether the process named by <paramref name="identity"/> (<c>PID:START</c>, possibly followed by <c>:</c> and
    /// more) still runs; an unreadable name counts as alive, so what it names is kept.
    /// </summary>
    public static bool IsAlive(string identity) =>
        identity.Split(':') is not [var pid, var start, ..] || !pid.All(char.IsAsciiDigit) || pid.Length == 0 || ProcessStart(pid) == start;

    /// <summary>Start time (field 22 of /proc/PID/stat) of a live process, or null.</summary>
    private static string? ProcessStart(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
