using Slipway.Embedded;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>
/// The liveness check every embedded daemon's start waits on. A daemon is started through two execs (sh, setsid),
/// and while a process execs its /proc command line reads empty for a moment: that once read as "the registry died"
/// and failed CI's fault campaign before the registry had a chance to answer.
/// </summary>
public sealed class DetachedProcessTests
{
    [Fact]
    public async Task A_daemon_checked_while_it_is_still_being_exec_d_is_alive_and_once_stopped_is_not()
    {
        var dir = Directory.CreateTempSubdirectory("slipway-detached-");
        var pids = new List<int>();
        try
        {
            var misreads = 0;
            for (var i = 0; i < 60; i++)
            {
                var log = Path.Combine(dir.FullName, $"sleep{i}.log");
                var pid = DetachedProcess.Start("/bin/sleep", ["30"], log, log);
                pids.Add(pid);
                // Checked right away and repeatedly: the exec window is the first few milliseconds.
                for (var check = 0; check < 20; check++)
                    if (!DetachedProcess.IsAlive(pid, "sleep")) misreads++;
            }
            Assert.Equal(0, misreads);

            foreach (var pid in pids) await DetachedProcess.StopAsync(pid, "sleep", TimeSpan.FromSeconds(5));
            Assert.All(pids, pid => Assert.False(DetachedProcess.IsAlive(pid, "sleep")));
        }
        finally
        {
            foreach (var pid in pids) await DetachedProcess.StopAsync(pid, "sleep", TimeSpan.FromSeconds(5));
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_live_process_whose_command_line_lacks_the_marker_is_not_taken_for_the_daemon()
    {
        var dir = Directory.CreateTempSubdirectory("slipway-detached-");
        var log = Path.Combine(dir.FullName, "sleep.log");
        var pid = DetachedProcess.Start("/bin/sleep", ["30"], log, log);
        try
        {
            Assert.False(DetachedProcess.IsAlive(pid, "docker-registry"));
            Assert.True(DetachedProcess.IsAlive(pid, "sleep"));
        }
        finally
        {
            await DetachedProcess.StopAsync(pid, "sleep", TimeSpan.FromSeconds(5));
            dir.Delete(recursive: true);
        }
    }
}
