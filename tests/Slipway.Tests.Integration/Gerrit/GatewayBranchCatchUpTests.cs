using Slipway.Contracts;
using Slipway.Embedded;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// A direct push to a branch (no change) while the gateway is down is rebuilt by the catch-up from the branch's tip
/// (List Branches against the last tip the gateway saw) with the live event's id; a push seen live is not
/// published again. A new tag likewise (List Tags). Real git pushes to the stand-in, real Postgres and Kafka.
/// </summary>
public sealed class GatewayBranchCatchUpTests
{
    private const string Project = "demo/hello";
    private const string Release = "refs/heads/release-1";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Gateway__InitialBackoffSeconds"] = "0.2",
        ["Gateway__MaxBackoffSeconds"] = "2",
        ["Gateway__CatchUpOverlapSeconds"] = "300",
    };

    /// <summary>Pushes a new commit on top of <paramref name="from"/> straight to <paramref name="target"/> with the real git client; returns (old tip, new tip).</summary>
    private static async Task<(string Old, string New)> DirectPushAsync(GerritServiceEnvironment env, string from, string target, string subject)
    {
        var url = new UriBuilder(env.Gerrit.HttpUrl) { UserName = env.Gerrit.Developer.Username, Password = env.Gerrit.DeveloperHttpPassword, Path = "/a/" + Project }.Uri.ToString();
        var scratch = Directory.CreateTempSubdirectory("slipway-direct-push-").FullName;
        try
        {
            var gitEnv = new Dictionary<string, string>
            {
                ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0", ["GIT_DIR"] = scratch,
                ["GIT_AUTHOR_NAME"] = "dev", ["GIT_AUTHOR_EMAIL"] = "dev@example.org", ["GIT_COMMITTER_NAME"] = "dev", ["GIT_COMMITTER_EMAIL"] = "dev@example.org",
            };
            async Task<string> Git(params string[] args)
            {
                var r = await ProcessRunner.RunAsync("git", args, environment: gitEnv);
                Assert.True(r.Succeeded, $"git {string.Join(' ', args)}: {r.StdErr}{r.StdOut}");
                return r.StdOut.Trim();
            }
            await Git("init", "-q", "--bare", scratch);
            await Git("fetch", "-q", url, from);
            var parent = await Git("rev-parse", "FETCH_HEAD");
            var old = from == target ? parent : new string('0', 40);
            var commit = await Git("commit-tree", "FETCH_HEAD^{tree}", "-p", parent, "-m", subject);
            await Git("push", "-q", url, $"{commit}:{target}");
            return (old, commit);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Pushes an annotated tag of master's tip with the real git client; returns the tag object's id (what ref-updated names).</summary>
    private static async Task<string> PushAnnotatedTagAsync(GerritServiceEnvironment env, string tag)
    {
        var url = new UriBuilder(env.Gerrit.HttpUrl) { UserName = env.Gerrit.Developer.Username, Password = env.Gerrit.DeveloperHttpPassword, Path = "/a/" + Project }.Uri.ToString();
        var scratch = Directory.CreateTempSubdirectory("slipway-tag-push-").FullName;
        try
        {
            var gitEnv = new Dictionary<string, string>
            {
                ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0", ["GIT_DIR"] = scratch,
                ["GIT_COMMITTER_NAME"] = "dev", ["GIT_COMMITTER_EMAIL"] = "dev@example.org",
            };
            async Task<string> Git(params string[] args)
            {
                var r = await ProcessRunner.RunAsync("git", args, environment: gitEnv);
                Assert.True(r.Succeeded, $"git {string.Join(' ', args)}: {r.StdErr}{r.StdOut}");
                return r.StdOut.Trim();
            }
            await Git("init", "-q", "--bare", scratch);
            await Git("fetch", "-q", url, "refs/heads/master");
            await Git("tag", "-a", "-m", "Release " + tag, tag, "FETCH_HEAD");
            await Git("push", "-q", url, $"refs/tags/{tag}:refs/tags/{tag}");
            return await Git("rev-parse", "refs/tags/" + tag);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

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
        return ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
    }

    private static async Task WaitForCatchUpAsync(ServiceProcess gateway)
    {
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains("missed ones published") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("missed ones published", gateway.Output);
    }

    private static List<GerritEvent> Updates(List<(string Key, GerritEvent Event)> events, string newRev) =>
        events.Where(e => e.Event.Type == "ref-updated" && e.Event.RefUpdate?.RefName == Release && e.Event.RefUpdate.NewRev == newRev)
            .Select(e => e.Event).ToList();

    private static async Task<(GerritServiceEnvironment Env, string Schema, ServiceProcess Gateway, string Tip)> StartWithReleaseBranchAsync()
    {
        var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false;
        await env.Gerrit.CreateProjectAsync(Project);
        env.Gerrit.AllowDirectPush(env.Gerrit.Developer, Project);
        var upload = await env.Gerrit.UploadPatchsetAsync(Project, "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Change a");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, upload.ChangeNumber);
        // The release branch is created while the gateway listens: its live ref-updated gives the tip the catch-up compares with.
        var created = await DirectPushAsync(env, "refs/heads/master", Release, "Create release-1");
        await SettledEventsAsync(env, schema, ev => Updates(ev, created.New).Count == 1);
        return (env, schema, gateway, created.New);
    }

    [Fact]
    public async Task A_direct_push_to_a_release_branch_while_the_gateway_is_down_is_published_once_after_restart()
    {
        var (env, schema, gateway, tip) = await StartWithReleaseBranchAsync();
        await using var _ = env;
        gateway.KillHard();
        var push = await DirectPushAsync(env, Release, Release, "Hotfix on release-1");
        Assert.Equal(tip, push.Old);

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        var events = await SettledEventsAsync(env, schema, ev => Updates(ev, push.New).Count > 0);
        var recovered = Updates(events, push.New);
        Assert.True(recovered.Count == 1, $"{recovered.Count} ref-updated for the hotfix\n{restarted.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, recovered[0].Source);
        Assert.True(recovered[0].CaughtUp);
        Assert.Equal(Project, recovered[0].Project);
        Assert.Equal(tip, recovered[0].RefUpdate!.OldRev);
        // The id is the one the live event would have had.
        var live = recovered[0] with { Source = GerritEventSource.Stream, CaughtUp = false, EventCreatedOn = DateTimeOffset.UnixEpoch };
        Assert.Equal(Slipway.Gerrit.Events.GerritEventIdentity.IdOf(live), Slipway.Gerrit.Events.GerritEventIdentity.IdOf(recovered[0]));

        // A second restart finds the tip it recorded: nothing new.
        restarted.KillHard();
        var again = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(again, 1);
        await WaitForCatchUpAsync(again);
        events = await SettledEventsAsync(env, schema, _ => true);
        Assert.True(Updates(events, push.New).Count == 1, $"hotfix published again\n{again.Output}");
        Assert.Single(Updates(events, tip));
    }

    [Fact]
    public async Task A_branch_created_while_the_gateway_is_down_is_published_once_after_restart_with_the_live_events_id()
    {
        const string created = "refs/heads/release-2";
        var (env, schema, gateway, _) = await StartWithReleaseBranchAsync();
        await using var _ = env;
        // A catch-up lists the project's branches once while the gateway runs (a cut stream is a gap too).
        Assert.True(env.Gerrit.CutSshConnections() > 0);
        await WaitForConnectionsAsync(gateway, 2);
        await WaitForCatchUpAsync(gateway);

        gateway.KillHard();
        var push = await DirectPushAsync(env, "refs/heads/master", created, "Create release-2");
        Assert.Equal(new string('0', 40), push.Old);

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        List<GerritEvent> Creations(List<(string Key, GerritEvent Event)> events) =>
            events.Where(e => e.Event.Type == "ref-updated" && e.Event.RefUpdate?.RefName == created).Select(e => e.Event).ToList();
        var events = await SettledEventsAsync(env, schema, ev => Creations(ev).Count > 0);
        var recovered = Creations(events);
        Assert.True(recovered.Count == 1, $"{recovered.Count} ref-updated for the new branch\n{restarted.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, recovered[0].Source);
        Assert.Equal(Project, recovered[0].Project);
        Assert.Equal(new string('0', 40), recovered[0].RefUpdate!.OldRev);
        Assert.Equal(push.New, recovered[0].RefUpdate!.NewRev);
        // The id is the one the live event of the branch's creation would have had.
        var live = recovered[0] with { Source = GerritEventSource.Stream, CaughtUp = false, EventCreatedOn = DateTimeOffset.UnixEpoch };
        Assert.Equal(Slipway.Gerrit.Events.GerritEventIdentity.IdOf(live), Slipway.Gerrit.Events.GerritEventIdentity.IdOf(recovered[0]));

        // A second restart finds the branch recorded: nothing new.
        restarted.KillHard();
        var again = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(again, 1);
        await WaitForCatchUpAsync(again);
        events = await SettledEventsAsync(env, schema, _ => true);
        Assert.True(Creations(events).Count == 1, $"new branch published again\n{again.Output}");
    }

    [Fact]
    public async Task A_tag_created_while_the_gateway_is_down_is_published_once_after_restart_with_the_live_events_id()
    {
        const string tagRef = "refs/tags/v1.0";
        var (env, schema, gateway, _) = await StartWithReleaseBranchAsync();
        await using var _ = env;
        // A tag pushed while the gateway listens is published live; the next catch-up lists the project's tags for the first time.
        var old = await PushAnnotatedTagAsync(env, "v0.9");
        gateway.KillHard();
        var oldRestart = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(oldRestart, 1);
        await WaitForCatchUpAsync(oldRestart);

        oldRestart.KillHard();
        var tagObject = await PushAnnotatedTagAsync(env, "v1.0");
        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        List<GerritEvent> Tags(List<(string Key, GerritEvent Event)> events, string refName) =>
            events.Where(e => e.Event.Type == "ref-updated" && e.Event.RefUpdate?.RefName == refName).Select(e => e.Event).ToList();
        var events = await SettledEventsAsync(env, schema, ev => Tags(ev, tagRef).Count > 0);
        var recovered = Tags(events, tagRef);
        Assert.True(recovered.Count == 1, $"{recovered.Count} ref-updated for the new tag\n{restarted.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, recovered[0].Source);
        Assert.Equal((new string('0', 40), tagObject), (recovered[0].RefUpdate!.OldRev, recovered[0].RefUpdate!.NewRev));
        var live = recovered[0] with { Source = GerritEventSource.Stream, CaughtUp = false, EventCreatedOn = DateTimeOffset.UnixEpoch };
        Assert.Equal(Slipway.Gerrit.Events.GerritEventIdentity.IdOf(live), Slipway.Gerrit.Events.GerritEventIdentity.IdOf(recovered[0]));
        // v0.9 was published live once (the gateway listened), and not again by either catch-up.
        Assert.Equal([old], Tags(events, "refs/tags/v0.9").Select(e => e.RefUpdate!.NewRev));

        // A second restart finds the tag recorded: nothing new.
        restarted.KillHard();
        var again = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(again, 1);
        await WaitForCatchUpAsync(again);
        events = await SettledEventsAsync(env, schema, _ => true);
        Assert.True(Tags(events, tagRef).Count == 1, $"new tag published again\n{again.Output}");
    }

    [Fact]
    public async Task A_branch_of_a_project_never_listed_before_is_only_recorded_not_published()
    {
        const string other = "refs/heads/release-0";
        var (env, schema, gateway, _) = await StartWithReleaseBranchAsync();
        await using var _ = env;
        gateway.KillHard();
        // The project's branches were never listed (no catch-up yet): a branch unknown to the gateway may be years old.
        await DirectPushAsync(env, "refs/heads/master", other, "Create release-0");

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        var events = await SettledEventsAsync(env, schema, _ => true);
        Assert.DoesNotContain(events, e => e.Event.Type == "ref-updated" && e.Event.RefUpdate?.RefName == other);
        Assert.Contains($"branch {other} of {Project} first seen", restarted.Output);
    }

    [Fact]
    public async Task A_direct_push_seen_live_is_not_published_again_after_a_restart()
    {
        var (env, schema, gateway, tip) = await StartWithReleaseBranchAsync();
        await using var _ = env;
        var push = await DirectPushAsync(env, Release, Release, "Hotfix on release-1");
        var seen = await SettledEventsAsync(env, schema, ev => Updates(ev, push.New).Count == 1);
        Assert.Equal(GerritEventSource.Stream, Assert.Single(Updates(seen, push.New)).Source);

        gateway.KillHard();
        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(restarted, 1);
        await WaitForCatchUpAsync(restarted);
        var events = await SettledEventsAsync(env, schema, _ => true);
        var updates = Updates(events, push.New);
        Assert.True(updates.Count == 1, $"{updates.Count} ref-updated for the hotfix\n{restarted.Output}");
        Assert.Equal(GerritEventSource.Stream, updates[0].Source);
        Assert.Single(Updates(events, tip));
        Assert.Contains("projects checked for moved branches and tags, 0 moved", restarted.Output);
    }
}
