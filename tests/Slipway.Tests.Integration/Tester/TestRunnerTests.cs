using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Contracts;
using Slipway.Tester;
using Slipway.Tester.Testing;

namespace Slipway.Tests.Integration.Tester;

/// <summary>The test step against the real engine: isolation, exit codes, time limit, bounded output, cleanup.</summary>
[Collection(TesterImagesCollection.Name)]
public sealed class TestRunnerTests(TesterImages images)
{
    private readonly TestRunner _runner = new(images.Docker, new TesterOptions(), NullLogger<TestRunner>.Instance);

    private TestRunRequest Request(params string[] args) => new()
    {
        Image = images.TestImage, Arguments = args, Labels = images.Labels, TimeLimit = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task A_passing_test_succeeds_with_the_tail_of_its_output()
    {
        var result = await _runner.RunAsync(Request("pass") with { Env = new Dictionary<string, string> { ["GREETING"] = "from-env" } }, CancellationToken.None);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(0, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal("running 3 tests\nok 1\nok 2\nok 3 from-env", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_failing_test_fails_with_its_exit_code_and_the_tail_of_its_output()
    {
        var result = await _runner.RunAsync(Request("fail") with { TailLines = 5 }, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("tests exited with code 3", result.Reason);
        // stdout and stderr are separate pipes read separately: the script pauses before its stderr line so it comes last.
        var lines = result.OutputTail!.Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.Contains("FAIL: expected 2, got 3", lines);
        Assert.Contains("progress line 200", lines);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_test_over_its_time_limit_is_killed_and_fails()
    {
        var result = await _runner.RunAsync(Request("sleep") with { TimeLimit = TimeSpan.FromSeconds(3) }, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Equal("tests exceeded their time limit of 3s and were killed", result.Reason);
        Assert.Equal("sleeping", result.OutputTail);
        Assert.InRange(result.Duration, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_test_that_tries_the_network_cannot_reach_it()
    {
        // The registry's port on the host: with network "none" the container's 127.0.0.1 is its own loopback.
        var registryPort = (Environment.GetEnvironmentVariable("Registry__Url") ?? "127.0.0.1:5000").Split(':')[^1];

        var result = await _runner.RunAsync(Request("net", registryPort), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(7, result.ExitCode);
        Assert.Contains("interfaces: lo \n", result.OutputTail + "\n");
        Assert.EndsWith("network unreachable", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_root_image_is_refused_unless_policy_allows_it()
    {
        var refused = await _runner.RunAsync(Request("whoami") with { Image = images.RootImage }, CancellationToken.None);
        Assert.False(refused.Succeeded);
        Assert.Null(refused.ExitCode);
        Assert.StartsWith("image runs as root", refused.Reason);
        Assert.EndsWith("refused by policy", refused.Reason);

        var allowed = await _runner.RunAsync(Request("whoami") with { Image = images.RootImage, AllowRootUser = true }, CancellationToken.None);
        Assert.True(allowed.Succeeded, allowed.Reason);
        Assert.Equal("uid=0", allowed.OutputTail);

        var nonRoot = await _runner.RunAsync(Request("whoami"), CancellationToken.None);
        Assert.Equal("uid=900", nonRoot.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task Huge_output_stays_bounded()
    {
        var result = await _runner.RunAsync(Request("flood"), CancellationToken.None);

        Assert.True(result.Succeeded, result.Reason);
        Assert.NotNull(result.OutputTail);
        Assert.True(result.OutputTail!.Length <= Output.TailMaxChars);
        Assert.EndsWith("\ndone flooding", result.OutputTail);
        Assert.Contains("a line of output that repeats", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_missing_image_fails_with_a_clear_reason()
    {
        var result = await _runner.RunAsync(Request("pass") with { Image = $"slipway-{images.Unique}/absent:1" }, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("not found", result.Reason);
    }

    [Fact]
    public async Task Cancelling_a_run_still_removes_its_container()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _runner.RunAsync(Request("sleep"), cts.Token));
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }
}
