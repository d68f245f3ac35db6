using System.Diagnostics;
using System.Globalization;
using Slipway.Embedded;

namespace Slipway.GerritStandIn;

/// <summary>
/// Stops the stand-in's sshd once the process hosting the stand-in is gone, also when it was killed with SIGKILL and ran
/// no cleanup (sshd is no .NET program that could watch its starter, and PR_SET_PDEATHSIG is not to be had from .NET).
/// A tiny shell watcher reads a pipe whose write end only the hosting process holds (.NET opens its pipes close-on-exec,
/// so no other child inherits it): end of file means that process is gone, and the watcher then signals sshd (and its
/// sessions) if that pid still has sshd's start time, so a later process under a reused pid is left alone.
/// </summary>
internal sealed class SshdDeathWatch : IDisposable
{
    // $1 sshd's pid, $2 its start time (field 22 of /proc/PID/stat; sshd's command name has no spaces, so after the
    // two arguments it is positional parameter 24).
    private const string Script = """
        cat >/dev/null
        pid="$1"; start="$2"
        set -- "$1" "$2" $(cat "/proc/$pid/stat" 2>/dev/null)
        [ "$#" -ge 24 ] || exit 0
        eval "now=\${24}"
        [ "$now" = "$start" ] || exit 0
        pkill -TERM -P "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
        exit 0
        """;

    private readonly Process _watcher;

    private SshdDeathWatch(Process watcher) => _watcher = watcher;

    /// <summary>Watches for this process's end on behalf of <paramref name="sshdPid"/>; null when sshd is already gone.</summary>
    public static SshdDeathWatch? Start(int sshdPid)
    {
        if (StartTimeOf(sshdPid) is not { } start) return null;
        var psi = new ProcessStartInfo("/bin/sh", ["-c", Script, "sshd-death-watch",
            sshdPid.ToString(CultureInfo.InvariantCulture), start.ToString(CultureInfo.InvariantCulture)])
        {
            // Only stdin is a pipe: a redirected stdout would, once this process is gone, end the watcher with SIGPIPE.
            RedirectStandardInput = true, UseShellExecute = false,
        };
        return new SshdDeathWatch(Process.Start(psi) ?? throw new InvalidOperationException("could not start the sshd death watch"));
    }

    /// <summary>Ends the watcher without touching sshd (the stand-in stops sshd itself).</summary>
    public void Dispose()
    {
        try
        {
            if (!_watcher.HasExited) Posix.Kill(_watcher.Id, Posix.SIGKILL);
            _watcher.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        finally { _watcher.Dispose(); }
    }

    private static long? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
