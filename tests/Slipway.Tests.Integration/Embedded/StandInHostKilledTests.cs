using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Slipway.Embedded;
using Slipway.Hosting.Lifetime;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>
/// The Gerrit stand-in's sshd does not outlive the process hosting the stand-in (a test host, `slipway up`): that process
/// (here `slipway gerrit-stand-in`) is killed with SIGKILL, runs no cleanup, and sshd goes all the same.
/// </summary>
public sealed partial class StandInHostKilledTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_the_stand_ins_host_with_SIGKILL_stops_its_sshd()
    {
        var dir = Path.Combine(Path.GetTempPath(), TestInfrastructure.UniqueName("slipway-standin-"));
        Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { TestInfrastructure.ProjectDll("cli", "slipway"), "gerrit-stand-in", "--dir", dir }) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("SLIPWAY_PARENT", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);

        var output = new StringBuilder();
        var sshdStarted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        ParentProcess? sshd = null;
        using var host = Process.Start(info)!;
        host.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (SshdPid().Match(e.Data) is { Success: true } m) sshdStarted.TrySetResult(int.Parse(m.Groups[1].Value));
        };
        host.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            var exited = host.WaitForExitAsync();
            var first = await Task.WhenAny(sshdStarted.Task, exited, Task.Delay(TimeSpan.FromSeconds(120)));
            Assert.True(first == sshdStarted.Task, $"the stand-in did not start within 120 s:\n{Output()}");
            var pid = await sshdStarted.Task;
            sshd = new ParentProcess(pid, ParentProcess.StartTimeOf(pid) ?? throw new InvalidOperationException($"sshd (pid {pid}) is not running:\n{Output()}"));
            Assert.Contains("sshd", File.ReadAllText($"/proc/{pid}/cmdline"));

            host.Kill(); // SIGKILL: no DisposeAsync, no finally of the host runs

            var deadline = DateTime.UtcNow + Bound;
            while (sshd.IsAlive && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.False(sshd.IsAlive, $"sshd (pid {pid}) still runs {Bound.TotalSeconds} s after its host was killed:\n{Output()}");
        }
        finally
        {
            if (!host.HasExited) host.Kill(entireProcessTree: true);
            if (sshd is { IsAlive: true }) Posix.Kill(sshd.Pid, Posix.SIGKILL);
            await ProcessRunner.RunAsync("rm", ["-rf", "--one-file-system", dir]);
        }
    }

    [GeneratedRegex(@"sshd pid (\d+)")]
    private static partial Regex SshdPid();
}
