using Slipway.Contracts;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>The gateway against the Gerrit stand-in: real sshd stream-events, real git, real Kafka protocol, real Postgres.</summary>
public sealed class GatewayTests
{
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Waits until the gateway has opened <paramref name="count"/> stream connections (it logs each).</summary>
    internal static async Task WaitForConnectionsAsync(ServiceProcess gateway, int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (gateway.Output.Split("stream-events connected").Length - 1 < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gateway did not connect {count} times:\n" + gateway.Output);
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits until the stand-in has subscribed a stream-events session beyond the first <paramref name="before"/>. The
    /// gateway logs "connected" once the command is sent, before Gerrit subscribes the session: a line emitted with
    /// EmitRawLine in between reaches no one (a real event then is the catch-up's to recover; a raw line is not).
    /// </summary>
    internal static async Task WaitForSubscriptionAsync(GerritServiceEnvironment env, long before)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (env.Gerrit.StreamSubscriptions <= before)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no stream-events session subscribed after the first {before}:\n" + env.Output);
            await Task.Delay(100);
        }
    }

    /// <summary>The topic's events, once per event id (delivery is at least once), until <paramref name="expected"/> distinct ones or the timeout.</summary>
    internal static List<(string Key, GerritEvent Event)> ReadDistinct(GerritServiceEnvironment env, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<(string Key, GerritEvent Event)> distinct;
        var repeats = 0;
        while (true)
        {
            // Read past the expected count by the repeats seen so far, so repeats never hide later events.
            var left = deadline - DateTime.UtcNow;
            var raw = KafkaTestClient.ReadAll(env.GerritTopic, expected + repeats, left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            distinct = raw.Select(r => (r.Message.Key, Envelope: EventEnvelope.Parse(r.Message.Value)))
                .DistinctBy(e => e.Envelope.Id)
                .Select(e => (e.Key, e.Envelope.DataAs<GerritEvent>()))
                .ToList();
            if (distinct.Count >= expected || raw.Count - distinct.Count == repeats || DateTime.UtcNow >= deadline) break;
            repeats = raw.Count - distinct.Count;
        }
        return distinct;
    }

    /// <summary>Reads until <paramref name="expected"/> events of <paramref name="project"/> arrived; other projects'
    /// events (warm-up pings) neither count nor are returned.</summary>
    internal static List<(string Key, GerritEvent Event)> ReadProject(GerritServiceEnvironment env, string project, int expected, TimeSpan timeout) =>
        KafkaTestClient.ReadAll(env.GerritTopic, expected, timeout, r => EventEnvelope.Parse(r.Message.Value).DataAs<GerritEvent>().Project == project)
            .Select(r => (r.Message.Key, EventEnvelope.Parse(r.Message.Value).DataAs<GerritEvent>()))
            .Where(e => e.Item2.Project == project).ToList();

    internal static List<(string Key, GerritEvent Event)> Read(GerritServiceEnvironment env, int expected, TimeSpan timeout) =>
        KafkaTestClient.ReadAll(env.GerritTopic, expected, timeout)
            .Select(r => (r.Message.Key, EventEnvelope.Parse(r.Message.Value).DataAs<GerritEvent>())).ToList();

    [Fact]
    public async Task Every_event_of_a_change_reaches_gerrit_events_in_order_with_its_key()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        await env.Gerrit.CreateProjectAsync("demo/other");
        var warmup = await env.Gerrit.UploadPatchsetAsync("demo/other", "master", new Dictionary<string, string?> { ["x"] = "x\n" }, "Warm-up");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema);
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, warmup.ChangeNumber);

        var upload = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["README"] = "hi\n" }, "Add README");
        await env.Gerrit.CommentAsync(upload.ChangeNumber, "recheck");
        await env.Gerrit.MergeAsync(upload.ChangeNumber);

        // ref-updated (patchset ref), patchset-created, comment-added, change-merged, ref-updated (branch)
        var events = ReadProject(env, "demo/hello", 5, Timeout);
        var changeKey = $"demo/hello~{upload.ChangeNumber}";
        Assert.Equal(["patchset-created", "comment-added", "change-merged"],
            events.Where(e => e.Key == changeKey).Select(e => e.Event.Type));
        var created = events.Single(e => e.Event.Type == "patchset-created").Event;
        Assert.Equal(upload.Revision, created.Revision);
        Assert.Equal(upload.Ref, created.Ref);
        Assert.Equal(upload.ChangeId, created.ChangeId);
        Assert.Equal(GerritEventSource.Stream, created.Source);
        Assert.Contains(events, e => e.Key == "demo/hello~refs/heads/master" && e.Event.Type == "ref-updated");
        Assert.Contains(events, e => e.Key == $"demo/hello~{upload.Ref}" && e.Event.Type == "ref-updated");
        Assert.Equal(5, events.Count);
    }

    /// <summary>
    /// Comments on the change until one comes through: the stream is live again. (Events Gerrit
    /// emits before the gateway's new stream is subscribed are what the catch-up recovers; see
    /// GatewayCatchUpTests.)
    /// </summary>
    internal static async Task<int> CommentUntilLiveAsync(GerritServiceEnvironment env, string schema, int change)
    {
        var before = await SeenAsync(schema);
        var deadline = DateTime.UtcNow + Timeout;
        var pings = 0;
        while (DateTime.UtcNow < deadline)
        {
            await env.Gerrit.CommentAsync(change, $"ping {Guid.NewGuid():N}");
            pings++;
            for (var i = 0; i < 10; i++)
            {
                await Task.Delay(100);
                if (await SeenAsync(schema) <= before) continue;
                // On a slow machine more than one ping went out: wait for the others (or for the count to stay put
                // for 2 s: a ping sent before the stream was live may never come), so none arrives later in the
                // middle of what the test does next (a cut Postgres, a count of events).
                var (seen, stableSince) = (await SeenAsync(schema), DateTime.UtcNow);
                while (seen < before + pings && DateTime.UtcNow - stableSince < TimeSpan.FromSeconds(2) && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                    var now = await SeenAsync(schema);
                    if (now != seen) (seen, stableSince) = (now, DateTime.UtcNow);
                }
                return (int)seen;
            }
        }
        throw new TimeoutException("the gateway's stream never came back:\n" + env.Output);
    }

    /// <summary>How many events the gateway has published (its dedupe table).</summary>
    internal static async Task<long> SeenAsync(string schema)
    {
        await using var conn = new Npgsql.NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {schema}.seen_events", conn);
        try { return (long)(await cmd.ExecuteScalarAsync())!; }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01") { return 0; }
    }

    [Fact]
    public async Task After_the_ssh_connection_is_cut_or_the_gateway_restarts_it_reconnects_and_publishes_each_event_once()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var schema = TestInfrastructure.UniqueName("gw_");
        // Uploaded before the gateway ever ran (no mark yet, so maybe never published): it gives the pings a change.
        var first = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a"] = "1\n" }, "First");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema);
        await WaitForConnectionsAsync(gateway, 1);
        var published = await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        Assert.True(env.Gerrit.CutSshConnections() > 0);
        await WaitForConnectionsAsync(gateway, 2);
        published = await CommentUntilLiveAsync(env, schema, first.ChangeNumber);
        var second = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["b"] = "2\n" }, "Second");
        published += 2; // its ref-updated and patchset-created
        for (var deadline = DateTime.UtcNow + Timeout; await SeenAsync(schema) < published && DateTime.UtcNow < deadline;)
            await Task.Delay(100);

        gateway.KillHard();
        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema);
        await WaitForConnectionsAsync(restarted, 1);
        published = await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        published = (int)await SeenAsync(schema);
        // A late catch-up of `first` (uploaded before any mark) may still add events: read what is there.
        var records = KafkaTestClient.ReadAll(env.GerritTopic, published + 10, TimeSpan.FromSeconds(15));
        var events = records.Select(r => (r.Message.Key, Event: Slipway.Contracts.EventEnvelope.Parse(r.Message.Value).DataAs<Slipway.Contracts.GerritEvent>())).ToList();
        Assert.True(events.Count >= published, $"{events.Count} events on Kafka, {published} published");
        var ids = records.Select(r => Slipway.Contracts.EventEnvelope.Parse(r.Message.Value).Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count()); // nothing was published twice
        var created = events.Where(e => e.Event.Type == "patchset-created").Select(e => e.Event.ChangeNumber).ToList();
        // `first` predates any mark: the restart's catch-up may or may not reach it (overlap), but never twice.
        Assert.True(created.Count(c => c == second.ChangeNumber) == 1 && created.Count == created.Distinct().Count(),
            $"patchset-created of {string.Join(",", created)}:\n{env.Output}");
    }
}
