using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Tester;
using Slipway.Tester.Smoke;

namespace Slipway.Tests.Integration.Tester;

/// <summary>The smoke step against the real engine: the service-checker contract, readiness, cleanup.</summary>
[Collection(TesterImagesCollection.Name)]
public sealed class SmokeTesterTests(TesterImages images)
{
    private SmokeTester Tester(bool isolated = true) => new(images.Docker,
        new TesterOptions { SmokeForwarderImage = isolated ? images.BaseImage : null, AllowUnisolatedSmoke = !isolated, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0 },
        NullLogger<SmokeTester>.Instance);

    private SmokeRequest Request(string mode) => new()
    {
        Image = images.ServiceImage, Env = new Dictionary<string, string> { ["MODE"] = mode }, Labels = images.Labels,
        StartTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task A_service_whose_x_amples_all_pass_succeeds()
    {
        var result = await Tester().RunAsync(Request("good"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.Equal(
            ["readiness", "GET /hello/{name}: greets by name", "GET /hello/{name}: says who greets", "GET /status: reports ok", "GET /_info", "liveness GET /_info"],
            result.Checks.Select(c => c.Name));
        Assert.All(result.Checks, c => Assert.True(c.Passed, c.Name + ": " + c.Detail));
        Assert.Equal(6, result.ChecksPassed);
        Assert.Equal(0, result.ChecksFailed);
        Assert.Equal("all 6 checks passed", result.Reason);
        Assert.Contains("GET /hello/world -> 200", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task Without_a_forwarder_image_or_the_operators_opt_in_the_smoke_step_is_refused_and_runs_nothing()
    {
        var tester = new SmokeTester(images.Docker, new TesterOptions { SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0 }, NullLogger<SmokeTester>.Instance);

        var result = await tester.RunAsync(Request("good"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.Equal("refused: the tester cannot isolate the service under smoke test from the network (Tester:SmokeForwarderImage is not set); "
            + "the operator sets it, or Tester:AllowUnisolatedSmoke=true to let the service reach out", result.Reason);
        Assert.Empty(result.Checks);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_forwarder_that_is_created_but_cannot_start_fails_the_step_and_leaves_no_container_or_network()
    {
        await images.BuildNoPerlImageAsync();
        var tester = new SmokeTester(images.Docker, new TesterOptions { SmokeForwarderImage = images.NoPerlImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0 },
            NullLogger<SmokeTester>.Instance);

        var result = await tester.RunAsync(Request("good"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.StartsWith("smoke container could not run: ", result.Reason);
        Assert.Contains("perl", result.Reason);
        Assert.Empty(result.Checks);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task Without_a_forwarder_image_the_service_is_published_from_the_default_bridge()
    {
        var result = await Tester(isolated: false).RunAsync(Request("good"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_service_whose_responses_differ_fails_with_each_difference_named()
    {
        var result = await Tester().RunAsync(Request("bad"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        var details = result.Checks.ToDictionary(c => c.Name, c => c.Detail);
        Assert.Equal("body.greeting: expected \"Hello, world!\", got \"Hi\"", details["GET /hello/{name}: greets by name"]);
        Assert.Equal("header X-Greeter: expected /^slip/, got \"other\"", details["GET /hello/{name}: says who greets"]);
        Assert.Equal("status: expected 200, got 500", details["GET /status: reports ok"]);
        Assert.Null(details["liveness GET /_info"]);
        Assert.Equal(3, result.ChecksFailed);
        Assert.Equal("GET /hello/{name}: greets by name failed: body.greeting: expected \"Hello, world!\", got \"Hi\"", result.Reason);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_service_that_never_becomes_ready_fails_after_the_start_timeout_with_its_log()
    {
        var result = await Tester().RunAsync(Request("never") with { StartTimeout = TimeSpan.FromSeconds(4) }, CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        var readiness = Assert.Single(result.Checks);
        Assert.False(readiness.Passed);
        Assert.StartsWith("service did not become ready within 4s", result.Reason);
        Assert.Contains("waiting for a dependency that never comes", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_service_that_exits_early_fails_with_its_log()
    {
        var result = await Tester().RunAsync(Request("crash"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.Equal("service exited with code 3 before it became ready", result.Reason);
        Assert.Contains("fatal: configuration missing", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_finished_steps_removals_wait_their_pause_and_a_stopping_tester_does_them_at_once()
    {
        var tester = new SmokeTester(images.Docker,
            new TesterOptions { SmokeForwarderImage = images.BaseImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 60_000 },
            NullLogger<SmokeTester>.Instance);

        var result = await tester.RunAsync(Request("good"), CancellationToken.None);

        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.False(result.CleanedUp.IsCompleted);
        Assert.Equal((2, 1), await images.LeftoversAsync()); // the service, its forwarder and network, until the pause ends
        await tester.DisposeAsync();
        Assert.True(result.CleanedUp.IsCompletedSuccessfully);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_root_service_image_is_refused()
    {
        var result = await Tester().RunAsync(Request("good") with { Image = images.RootImage }, CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.StartsWith("image runs as root", result.Reason);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }
}
