using Npgsql;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// Stream lines that wait while the gateway writes are written together, in one transaction: each still published
/// once, in the stream's order, and a batch Postgres fails in the middle of is held and written again whole.
/// </summary>
public sealed class GatewayStreamBatchTests
{
    /// <summary>The burst's comments as published on gerrit.events, in topic order (one change: one key, one partition).</summary>
    private static List<string> BurstComments(List<(string Key, GerritEvent Event)> events, string tag) =>
        [.. events.Where(e => e.Event.Type == "comment-added" && e.Event.Comment?.Contains(tag) == true)
            .Select(e => e.Event.Comment![(e.Event.Comment!.IndexOf(tag, StringComparison.Ordinal))..])];

    private static async Task<List<(string Key, GerritEvent Event)>> ReadUntilAsync(GerritServiceEnvironment env, string schema, string tag, int count)
    {
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        List<(string Key, GerritEvent Event)> events = [];
        while (DateTime.UtcNow < deadline)
        {
            events = ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
            if (BurstComments(events, tag).Count >= count) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(2)); // a copy published late would show now
        return ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_burst_of_stream_lines_is_published_once_each_in_order_in_few_transactions()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/burst");
        var change = await env.Gerrit.UploadPatchsetAsync("demo/burst", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Burst");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema);
        await WaitForConnectionsAsync(gateway, 1);
        var before = await CommentUntilLiveAsync(env, schema, change.ChangeNumber);

        const int count = 100;
        for (var i = 0; i < count; i++) await env.Gerrit.CommentAsync(change.ChangeNumber, $"burst {i:D3}");

        var events = await ReadUntilAsync(env, schema, "burst ", count);
        Assert.Equal([.. Enumerable.Range(0, count).Select(i => $"burst {i:D3}")], BurstComments(events, "burst "));
        Assert.Equal(before + count, await SeenAsync(schema));
        // The lines that waited while earlier ones were written went in together (fewer transactions than events).
        var batches = gateway.Output.Split('\n').Where(l => l.Contains("stream events written in one transaction")).ToList();
        Assert.NotEmpty(batches);
        Assert.False(gateway.HasExited);
    }

    [Fact]
    public async Task A_batch_Postgres_fails_in_is_held_and_published_once_in_order_and_the_gap_meanwhile_is_caught_up()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false; // the gap is recovered through the REST query
        await env.Gerrit.CreateProjectAsync("demo/burst");
        var change = await env.Gerrit.UploadPatchsetAsync("demo/burst", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Burst");
        var pg = new NpgsqlConnectionStringBuilder(TestInfrastructure.PostgresConnectionString);
        await using var proxy = new CuttableTcpProxy(pg.Host!, pg.Port);
        var schema = TestInfrastructure.UniqueName("gw_");
        var viaProxy = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3, ApplicationName = schema };
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = viaProxy.ConnectionString,
            ["Gateway__InitialBackoffSeconds"] = "3", // a slow reconnect: the upload below surely falls into the gap
            ["Gateway__MaxBackoffSeconds"] = "3",
        });
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, change.ChangeNumber);

        // A burst, and Postgres goes away while the gateway writes it (at the latest, the second burst meets it away).
        const int first = 100, second = 20;
        for (var i = 0; i < first; i++) await env.Gerrit.CommentAsync(change.ChangeNumber, $"burst {i:D3}");
        proxy.Cut();
        await using (var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
        {
            await conn.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", conn);
            kill.Parameters.Add(new NpgsqlParameter { Value = schema });
            await kill.ExecuteScalarAsync();
        }
        for (var i = first; i < first + second; i++) await env.Gerrit.CommentAsync(change.ChangeNumber, $"burst {i:D3}");
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains("could not store") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("could not store", gateway.Output);
        await Task.Delay(TimeSpan.FromSeconds(2)); // every line of the bursts has reached the gateway, which holds them

        // The stream breaks while Postgres is away: a patch set uploaded now is seen by no stream (a gap).
        Assert.True(env.Gerrit.CutSshConnections() > 0);
        var missed = await env.Gerrit.UploadPatchsetAsync("demo/burst", "master", new Dictionary<string, string?> { ["b"] = "b\n" }, "In the gap");
        await Task.Delay(TimeSpan.FromSeconds(2));
        proxy.Restore();
        await WaitForConnectionsAsync(gateway, 2);
        // Uploaded at once: the reconnected stream may not be subscribed yet, and the catch-up must still find it (an
        // event in that window was lost before the gateway kept the gap open until the subscription was sure).
        var after = await env.Gerrit.UploadPatchsetAsync("demo/burst", "master", new Dictionary<string, string?> { ["c"] = "c\n" }, "After");

        List<(string Key, GerritEvent Event)> events = [];
        bool Has(UploadResult u) => events.Any(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber);
        deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            events = await ReadUntilAsync(env, schema, "burst ", first + second);
            if (Has(missed) && Has(after)) break;
            await Task.Delay(500);
        }
        Assert.Equal([.. Enumerable.Range(0, first + second).Select(i => $"burst {i:D3}")], BurstComments(events, "burst "));
        var recovered = events.Where(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == missed.ChangeNumber).ToList();
        Assert.True(recovered.Count == 1, $"{recovered.Count} patchset-created for the change in the gap\n{gateway.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, recovered[0].Event.Source);
        Assert.Single(events, e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == after.ChangeNumber);
        Assert.False(gateway.HasExited);
    }

    [Fact]
    public async Task In_a_burst_a_late_stream_copy_of_a_caught_up_comment_pairs_with_it_once_and_a_second_copy_is_published()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false; // the comment made while the gateway is down is recovered through the REST query
        await env.Gerrit.CreateProjectAsync("demo/burst");
        var change = await env.Gerrit.UploadPatchsetAsync("demo/burst", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Burst");
        var schema = TestInfrastructure.UniqueName("gw_");
        var settings = new Dictionary<string, string?> { ["Gateway__InitialBackoffSeconds"] = "0.2", ["Gateway__CatchUpOverlapSeconds"] = "300" };
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, settings);
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, change.ChangeNumber);

        // Said while the gateway is down: the restart's catch-up publishes it (source REST) and records it.
        gateway.KillHard();
        var text = $"recheck {Guid.NewGuid():N}";
        await env.Gerrit.CommentAsync(change.ChangeNumber, text);
        var subscriptions = env.Gerrit.StreamSubscriptions;
        gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, settings);
        await WaitForConnectionsAsync(gateway, 1);
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains("missed ones published") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("missed ones published", gateway.Output);

        // Then the stream brings, among 40 other comments at once, two copies of that message dated 1 and 2 s later (other
        // ids): the first pairs with the caught-up record, the second finds the record paired and is a new message.
        var original = System.Text.Json.Nodes.JsonNode.Parse(env.Gerrit.Events().Last(e => e.Type == "comment-added" && e.Json.Contains(text, StringComparison.Ordinal)).Json)!.AsObject();
        var at = original["eventCreatedOn"]!.GetValue<long>();
        string Line(string? comment, long createdOn)
        {
            var line = original.DeepClone().AsObject();
            if (comment is not null) line["comment"] = comment;
            line["eventCreatedOn"] = createdOn;
            return line.ToJsonString();
        }
        const int fillers = 40;
        var lines = Enumerable.Range(0, fillers).Select(i => Line($"Patch Set 1:\n\nfiller {i:D3}", at)).ToList();
        lines.Insert(20, Line(null, at + 2));
        lines.Insert(20, Line(null, at + 1));
        // The lines are no events Gerrit keeps (no catch-up finds them): they must go to the restarted gateway's session.
        await WaitForSubscriptionAsync(env, subscriptions);
        foreach (var line in lines) env.Gerrit.EmitRawLine(line);

        var events = await ReadUntilAsync(env, schema, "filler ", fillers);
        Assert.Equal([.. Enumerable.Range(0, fillers).Select(i => $"filler {i:D3}")], BurstComments(events, "filler "));
        var copies = events.Where(e => e.Event.Type == "comment-added" && e.Event.Comment?.Contains(text, StringComparison.Ordinal) == true).Select(e => e.Event).ToList();
        Assert.True(copies.Count == 2, $"{copies.Count} comment-added for {text}: {string.Join(", ", copies.Select(c => $"{c.Source}@{c.EventCreatedOn.ToUnixTimeSeconds() - at}"))}\n{gateway.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, copies[0].Source);
        Assert.Equal(GerritEventSource.Stream, copies[1].Source);
        Assert.Equal(at + 2, copies[1].EventCreatedOn.ToUnixTimeSeconds());
        Assert.False(gateway.HasExited);
    }
}
