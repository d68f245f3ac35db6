using System.Diagnostics;
using Slipway.Hosting.Lifetime;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>How a child names the starter it must not outlive (SLIPWAY_PARENT_PID, SLIPWAY_PARENT_START_TIME).</summary>
public sealed class ParentProcessTests
{
    [Fact]
    public void This_process_is_alive_but_a_process_under_its_pid_with_another_start_time_is_not()
    {
        var current = ParentProcess.Current;
        Assert.True(current.IsAlive);
        // What a pid reused by a later process looks like: same pid, another start time.
        Assert.False((current with { StartTime = current.StartTime + 1 }).IsAlive);
    }

    [Fact]
    public async Task An_exited_process_is_not_alive_and_waiting_for_it_completes()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", ["30"]))!;
        var parent = new ParentProcess(child.Id, ParentProcess.StartTimeOf(child.Id)!.Value);
        Assert.True(parent.IsAlive);
        child.Kill();
        await child.WaitForExitAsync();
        Assert.False(parent.IsAlive);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await parent.WaitForExitAsync(TimeSpan.FromMilliseconds(50), bound.Token);
    }

    [Fact]
    public void The_environment_names_the_parent_and_a_malformed_value_is_refused()
    {
        var env = ParentProcess.ChildEnvironment();
        Assert.Equal(ParentProcess.Current, ParentProcess.FromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Null(ParentProcess.FromEnvironment(_ => null));
        Assert.Throws<ArgumentException>(() => ParentProcess.FromEnvironment(k => k == ParentProcess.PidVariable ? "12x" : null));
        Assert.Throws<ArgumentException>(() => ParentProcess.FromEnvironment(k => k == ParentProcess.PidVariable ? "1" : null));
        Assert.Throws<ArgumentException>(() => ParentProcess.FromEnvironment(k => k == ParentProcess.PidVariable ? "4242" : "-5"));
    }
}
