using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// Events the catch-up rebuilds from Gerrit's REST API carry the ids of the live events they stand
/// for (so a restart never publishes a merge twice), recover merges with the commit the merge made,
/// recover abandons, and a catch-up larger than its event limit continues until the gap is closed.
/// </summary>
public sealed class GatewayCatchUpIdentityTests
{
    private static Dictionary<string, string?> Settings(int? maxEvents = null)
    {
        var s = new Dictionary<string, string?>
        {
            ["Gateway__InitialBackoffSeconds"] = "0.2",
            ["Gateway__MaxBackoffSeconds"] = "2",
            ["Gateway__CatchUpOverlapSeconds"] = "300", // every event of the test is inside the overlap
        };
        if (maxEvents is { } m) s["Gateway__CatchUpMaxEvents"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return s;
    }

    private static Task<UploadResult> UploadAsync(GerritServiceEnvironment env, string name) =>
        env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { [name] = name + "\n" }, "Change " + name);

    /// <summary>Everything on gerrit.events once the gateway has published nothing new for a while.</summary>
    private static async Task<List<(string Key, GerritEvent Event)>> SettledEventsAsync(GerritServiceEnvironment env, string schema, Func<List<(string Key, GerritEvent Event)>, bool> done)
    {
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        List<(string Key, GerritEvent Event)> events = [];
        while (DateTime.UtcNow < deadline)
        {
            events = Read(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
            if (done(events)) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(4)); // a duplicate would come now
        return Read(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
    }

    private static async Task WaitForCatchUpAsync(ServiceProcess gateway)
    {
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains("missed ones published") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("missed ones published", gateway.Output);
    }

    [Fact]
    public async Task A_merge_seen_live_is_not_published_again_by_the_catch_up_after_a_restart()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var a = await UploadAsync(env, "a");
        var b = await UploadAsync(env, "b");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, a.ChangeNumber);

        await env.Gerrit.MergeAsync(a.ChangeNumber);              // fast-forward: the branch tip is a's patch set
        var mergeCommit = await env.Gerrit.MergeAsync(b.ChangeNumber); // the branch moved: Gerrit makes a merge commit
        Assert.NotEqual(b.Revision, mergeCommit);
        await SettledEventsAsync(env, schema, ev => ev.Count(e => e.Event.Type == "change-merged") == 2);

        gateway.KillHard();
        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        var events = await SettledEventsAsync(env, schema, _ => true);

        var merges = events.Where(e => e.Event.Type == "change-merged").ToList();
        Assert.True(merges.Count == 2, $"{merges.Count} change-merged published:\n{string.Join("\n", merges.Select(m => $"{m.Event.ChangeNumber} {m.Event.NewRev} {m.Event.Source}"))}\n{restarted.Output}");
        Assert.Equal(mergeCommit, merges.Single(m => m.Event.ChangeNumber == b.ChangeNumber).Event.NewRev);
    }

    [Fact]
    public async Task A_merge_and_an_abandon_while_the_gateway_is_down_are_recovered_once_with_the_merge_commit()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var a = await UploadAsync(env, "a");
        var b = await UploadAsync(env, "b");
        var c = await UploadAsync(env, "c");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, a.ChangeNumber);

        gateway.KillHard();
        await env.Gerrit.MergeAsync(a.ChangeNumber);
        var mergeCommit = await env.Gerrit.MergeAsync(b.ChangeNumber);
        await env.Gerrit.AbandonAsync(c.ChangeNumber, "not needed");

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        var events = await SettledEventsAsync(env, schema,
            ev => ev.Count(e => e.Event.Type == "change-merged") == 2 && ev.Any(e => e.Event.Type == "change-abandoned"));

        var merged = events.Where(e => e.Event.Type == "change-merged" && e.Event.ChangeNumber == b.ChangeNumber).ToList();
        Assert.True(merged.Count == 1, $"{merged.Count} change-merged for the merge commit\n{restarted.Output}");
        Assert.Equal(mergeCommit, merged[0].Event.NewRev);
        Assert.Equal(GerritEventSource.RestCatchup, merged[0].Event.Source);
        var abandoned = events.Where(e => e.Event.Type == "change-abandoned").ToList();
        Assert.True(abandoned.Count == 1, $"{abandoned.Count} change-abandoned\n{restarted.Output}");
        Assert.Equal(c.ChangeNumber, abandoned[0].Event.ChangeNumber);
        Assert.Equal($"demo/hello~{c.ChangeNumber}", abandoned[0].Key);
    }

    [Fact]
    public async Task A_catch_up_larger_than_its_event_limit_continues_until_everything_is_published()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var first = await UploadAsync(env, "first");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings(maxEvents: 2));
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        gateway.KillHard();
        var missed = new List<UploadResult>();
        for (var i = 0; i < 5; i++)
        {
            missed.Add(await UploadAsync(env, $"m{i}"));
            await Task.Delay(1100); // distinct eventCreatedOn seconds, as real traffic has
        }

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings(maxEvents: 2));
        await WaitForConnectionsAsync(restarted, 1);
        var events = await SettledEventsAsync(env, schema,
            ev => missed.All(u => ev.Any(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber)));
        foreach (var u in missed)
            Assert.True(events.Count(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber) == 1,
                $"change {u.ChangeNumber} not published once\n{restarted.Output}");
    }
}
