using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Tester;
using Slipway.Tester.Smoke;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// The smoke step's network and forwarder made ahead (while the run's test step runs), against the real engine: the
/// step that takes them starts only its service and checks it through the forwarder, which finds the service by name;
/// every pair not taken is removed (discarded, made for another port, refused step, tester stopping).
/// </summary>
[Collection(TesterImagesCollection.Name)]
public sealed class SmokeWarmPairsTests(TesterImages images)
{
    private TesterOptions Options => new() { SmokeForwarderImage = images.BaseImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0 };

    private SmokeWarmPairs Pairs() => new(images.Docker, Options, NullLogger<SmokeWarmPairs>.Instance);

    private SmokeTester Tester() => new(images.Docker, Options, NullLogger<SmokeTester>.Instance);

    private SmokeRequest Request(string mode) => new()
    {
        Image = images.ServiceImage, Env = new Dictionary<string, string> { ["MODE"] = mode }, Labels = images.Labels,
        StartTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A pair prepared for <paramref name="runId"/> on the default port, and taken as its smoke step takes it.</summary>
    private static async Task<SmokeWarmPairs.Pair?> MadeAndTakenAsync(SmokeWarmPairs pairs, string runId, IReadOnlyDictionary<string, string> labels)
    {
        pairs.Prepare(runId, SmokeRequest.DefaultContainerPort, labels);
        return await pairs.TakeAsync(runId, SmokeRequest.DefaultContainerPort, CancellationToken.None);
    }

    private async Task<(IList<ContainerListResponse> Containers, IList<NetworkResponse> Networks)> OnEngineAsync()
    {
        var filter = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{images.RunLabel}={images.Unique}"] = true } };
        return (await images.Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter }),
            await images.Docker.Networks.ListNetworksAsync(new NetworksListParameters { Filters = filter }));
    }

    [Fact]
    public async Task A_step_given_a_warm_pair_starts_only_its_service_checks_it_through_the_pair_and_removes_all_three()
    {
        await using var pairs = Pairs();
        var pair = await MadeAndTakenAsync(pairs, "run-1", images.Labels);

        Assert.NotNull(pair);
        var (containers, networks) = await OnEngineAsync();
        Assert.Equal([$"/slipway-smoke-{pair!.Id}-fwd"], containers.Select(c => c.Names.Single()));
        Assert.Equal("running", containers[0].State);
        Assert.Equal([$"slipway-smoke-{pair.Id}"], networks.Select(n => n.Name));
        Assert.True(networks[0].Internal);
        Assert.Equal("smoke", containers[0].Labels["slipway.step-kind"]); // the sweeper finds it if the tester is killed

        var result = await Tester().RunAsync(Request("good"), CancellationToken.None, pair);
        await result.CleanedUp;

        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.Equal(
            ["readiness", "GET /hello/{name}: greets by name", "GET /hello/{name}: says who greets", "GET /status: reports ok", "GET /_info", "liveness GET /_info"],
            result.Checks.Select(c => c.Name));
        Assert.Contains("GET /hello/world -> 200", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
        Assert.Null(await pairs.TakeAsync("run-1", SmokeRequest.DefaultContainerPort, CancellationToken.None)); // taken once
    }

    [Fact]
    public async Task What_a_killed_tester_with_an_owner_left_carries_the_owner_and_the_owners_sweep_removes_it()
    {
        // Tester:Owner, as a test run or a stack sets it: every container and network the tester makes is labelled.
        var owner = "run-" + images.Unique + ".smoke";
        var options = Options;
        options.Owner = owner;
        var pairs = new SmokeWarmPairs(images.Docker, options, NullLogger<SmokeWarmPairs>.Instance);
        var pair = await MadeAndTakenAsync(pairs, "killed", images.Labels);
        Assert.NotNull(pair);
        var (containers, networks) = await OnEngineAsync();
        Assert.Equal([owner], containers.Select(c => c.Labels[Slipway.Tester.Testing.TestRunner.OwnerLabel]));
        Assert.Equal([owner], networks.Select(n => n.Labels[Slipway.Tester.Testing.TestRunner.OwnerLabel]));

        // The tester is killed (never disposed): whoever started it sweeps its owner (or a prefix of it) and nothing is left.
        var swept = await Slipway.Embedded.DeployedContainerSweep.RemoveAsync("run-" + images.Unique);
        Assert.Equal([$"slipway-smoke-{pair!.Id}-fwd"], swept.Found);
        Assert.Empty(swept.Remaining);
        Assert.Equal((0, 0), await images.LeftoversAsync());
        GC.KeepAlive(pairs);
    }

    [Fact]
    public async Task Pairs_not_used_are_removed_when_discarded_when_made_for_another_port_and_when_the_tester_stops()
    {
        var pairs = Pairs();
        pairs.Prepare("failed-tests", SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Prepare("other-port", SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Prepare("never-taken", SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Prepare("never-taken", SmokeRequest.DefaultContainerPort, images.Labels); // once per run

        pairs.Discard("failed-tests");
        Assert.Null(await pairs.TakeAsync("failed-tests", SmokeRequest.DefaultContainerPort, CancellationToken.None));
        Assert.Null(await pairs.TakeAsync("other-port", 9090, CancellationToken.None));
        Assert.Null(await pairs.TakeAsync("no-such-run", SmokeRequest.DefaultContainerPort, CancellationToken.None));
        await pairs.DisposeAsync(); // removes "never-taken" and waits for every removal

        Assert.Equal((0, 0), await images.LeftoversAsync());

        // A step that ends while the tester stops asks for nothing more: no pair, no spare (its pause is a second).
        pairs.Prepare("late", SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Replenish(SmokeRequest.DefaultContainerPort, images.Labels);
        Assert.Null(await pairs.TakeAsync("late", SmokeRequest.DefaultContainerPort, CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_step_refused_before_it_starts_its_service_removes_the_pair_it_was_given()
    {
        await using var pairs = Pairs();
        var pair = await MadeAndTakenAsync(pairs, "run-root", images.Labels);
        Assert.NotNull(pair);

        var result = await Tester().RunAsync(Request("good") with { Image = images.RootImage }, CancellationToken.None, pair);
        await result.CleanedUp;

        Assert.False(result.Succeeded);
        Assert.StartsWith("image runs as root", result.Reason);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_service_that_exits_at_once_behind_a_warm_pair_fails_with_its_log()
    {
        await using var pairs = Pairs();
        var pair = await MadeAndTakenAsync(pairs, "run-exit", images.Labels);

        var result = await Tester().RunAsync(Request("crash"), CancellationToken.None, pair);
        await result.CleanedUp;

        Assert.False(result.Succeeded);
        Assert.Equal("service exited with code 3 before it became ready", result.Reason);
        Assert.Contains("fatal: configuration missing", result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_spare_made_after_a_step_is_claimed_by_the_next_run_on_its_port_and_the_rest_removed_when_the_tester_stops()
    {
        var pairs = Pairs(); // SmokeCleanupDelayMs 0: a spare is made a second after Replenish
        pairs.Replenish(SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Replenish(SmokeRequest.DefaultContainerPort, images.Labels); // one per port
        pairs.Replenish(9090, images.Labels);
        var (containers, networks) = await OnEngineAsync();
        for (var i = 0; i < 300 && !(containers.Count == 2 && containers.All(c => c.State == "running")); i++)
        {
            await Task.Delay(100);
            (containers, networks) = await OnEngineAsync();
        }
        Assert.Equal(2, containers.Count);
        Assert.Equal(2, networks.Count);
        Assert.All(networks, n => Assert.True(n.Internal));

        // The next run on the default port claims its spare: nothing new is made, and its smoke step works through it.
        pairs.Prepare("next-run", SmokeRequest.DefaultContainerPort, images.Labels);
        var pair = await pairs.TakeAsync("next-run", SmokeRequest.DefaultContainerPort, CancellationToken.None);
        Assert.NotNull(pair);
        Assert.Contains($"/slipway-smoke-{pair!.Id}-fwd", containers.Select(c => c.Names.Single()));
        Assert.Equal(2, (await OnEngineAsync()).Containers.Count);
        var result = await Tester().RunAsync(Request("good"), CancellationToken.None, pair);
        await result.CleanedUp;
        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);

        // The spare for 9090 is left; the tester stopping removes it.
        (containers, networks) = await OnEngineAsync();
        Assert.EndsWith(" 9090", Assert.Single(containers).Command); // the forwarder's target port
        Assert.Single(networks);
        await pairs.DisposeAsync();
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_spare_claimed_during_its_pause_is_made_at_once_and_one_never_claimed_is_removed_on_stop()
    {
        var options = Options;
        options.SmokeCleanupDelayMs = 60_000; // the spare would wait a minute before it is made
        var pairs = new SmokeWarmPairs(images.Docker, options, NullLogger<SmokeWarmPairs>.Instance);
        pairs.Replenish(SmokeRequest.DefaultContainerPort, images.Labels);
        pairs.Replenish(9090, images.Labels);
        Assert.Equal((0, 0), await images.LeftoversAsync()); // still in its pause

        pairs.Prepare("eager-run", SmokeRequest.DefaultContainerPort, images.Labels);
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // not the minute's pause
        var pair = await pairs.TakeAsync("eager-run", SmokeRequest.DefaultContainerPort, bounded.Token);
        Assert.NotNull(pair);
        Assert.Equal((1, 1), await images.LeftoversAsync()); // the claimed one; the 9090 spare is still in its pause

        await pairs.DisposeAsync(); // the pause is cut short: nothing is made for 9090
        Assert.Equal((1, 1), await images.LeftoversAsync()); // the taken pair belongs to its step, not to the tester
        var result = await Tester().RunAsync(Request("good"), CancellationToken.None, pair);
        await result.CleanedUp;
        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_pair_whose_forwarder_died_while_it_waited_is_not_given_to_the_step_and_is_removed()
    {
        var pairs = Pairs();
        pairs.Replenish(SmokeRequest.DefaultContainerPort, images.Labels);
        var (containers, _) = await OnEngineAsync();
        for (var i = 0; i < 300 && !(containers.Count == 1 && containers[0].State == "running"); i++)
        {
            await Task.Delay(100);
            (containers, _) = await OnEngineAsync();
        }
        await images.Docker.Containers.KillContainerAsync(Assert.Single(containers).ID, new ContainerKillParameters()); // as an engine restart leaves it

        pairs.Prepare("after-restart", SmokeRequest.DefaultContainerPort, images.Labels);
        Assert.Null(await pairs.TakeAsync("after-restart", SmokeRequest.DefaultContainerPort, CancellationToken.None)); // the step makes its own
        await pairs.DisposeAsync(); // waits for the removal
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }
}
