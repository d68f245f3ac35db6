using System.Diagnostics;

namespace Slipway.Embedded;

/// <summary>
/// Background daemons (mock Kafka host, dockerd, registry) that must outlive the
/// `infra up` that started them: each runs in its own session (setsid), with stdin from
/// /dev/null and output in files, so no terminal signal or closed pipe reaches it.
/// </summary>
public static class DetachedProcess
{
    /// <summary>Starts the command and returns its pid (setsid execs in place, so the pid is the daemon's).</summary>
    /// <param name="environment">variables added to the daemon's environment (e.g. the parent it must not outlive)</param>
    public static int Start(string exe, IEnumerable<string> args, string stdoutFile, string stderrFile, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("out=$1; err=$2; shift 2; exec setsid \"$@\" >\"$out\" 2>\"$err\" </dev/null");
        psi.ArgumentList.Add("slipway-detach");
        psi.ArgumentList.Add(stdoutFile);
        psi.ArgumentList.Add(stderrFile);
        psi.ArgumentList.Add(exe);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        return process.Id;
    }

    /// <summary>True when pid runs (not a zombie) and its command line contains marker.</summary>
    /// <remarks>
    /// A process in the middle of an exec (ours exec twice: sh, then setsid, then the daemon) shows an empty
    /// /proc/pid/cmdline for a moment; read as "dead", that failed a registry start in CI with an empty log. An empty
    /// command line of a live process is therefore read again, for up to half a second, before it counts.
    /// </remarks>
    public static bool IsAlive(int pid, string marker)
    {
        if (pid <= 0) return false;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // The state letter follows the parenthesised command name; Z and X are dead.
                var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
                if (state is 'Z' or 'X') return false;
                var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                if (cmdline.Length > 0 || attempt >= 100) return cmdline.Contains(marker, StringComparison.Ordinal);
                Thread.Sleep(5); // mid-exec: look again
            }
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, wait up to timeout, then SIGKILL. Only touches pid if it still matches marker.</summary>
    public static async Task StopAsync(int pid, string marker, TimeSpan timeout, CancellationToken ct = default)
    {
        if (!IsAlive(pid, marker)) return;
        Posix.Kill(pid, Posix.SIGTERM);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(pid, marker)) return;
            await Task.Delay(100, ct);
        }
        Posix.Kill(pid, Posix.SIGKILL);
        for (var i = 0; i < 50 && IsAlive(pid, marker); i++) await Task.Delay(100, ct);
    }
}
