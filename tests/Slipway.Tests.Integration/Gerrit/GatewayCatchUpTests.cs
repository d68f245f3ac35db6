using System.Net;
using System.Text;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// The gateway's catch-up after gaps (cut connection, restart, dropped-output) from the events-log
/// plugin and, with it off, from the REST query; and its webhook intake. Against the stand-in.
/// </summary>
public sealed class GatewayCatchUpTests
{
    private const string Token = "webhook-secret-0123456789abcdef";
    private static readonly TimeSpan Timeout = GatewayTests.Timeout;

    private static Dictionary<string, string?> Settings(double backoffSeconds = 0.2, double? overlapSeconds = null)
    {
        var s = new Dictionary<string, string?>
        {
            ["Gateway__InitialBackoffSeconds"] = backoffSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__MaxBackoffSeconds"] = Math.Max(2, backoffSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__WebhookToken"] = Token,
        };
        if (overlapSeconds is { } o) s["Gateway__CatchUpOverlapSeconds"] = o.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return s;
    }

    private static Task<UploadResult> UploadAsync(GerritServiceEnvironment env, string name, string? changeId = null) =>
        env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { [name] = name + "\n" }, "Change " + name, changeId);

    /// <summary>
    /// Waits until the gateway has published at least <paramref name="notLive"/> patchset-created events
    /// that did not come from the live stream (its dedupe table says where each came from) and then
    /// nothing more for a while; returns everything on gerrit.events.
    /// </summary>
    private static async Task<List<(string Key, GerritEvent Event)>> WaitForPatchsetsAsync(GerritServiceEnvironment env, string schema, int notLive)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (await CountAsync(schema, "type = 'patchset-created' AND source <> 'Stream'") < notLive && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        long total = -1, now;
        while ((now = await CountAsync(schema, "true")) != total && DateTime.UtcNow < deadline)
        {
            total = now;
            await Task.Delay(1500);
        }
        var events = ReadDistinct(env, (int)total, Timeout);
        Assert.Equal(total, events.Count);
        // Once per event id: a gateway killed between producing and deleting its outbox rows produces them again
        // when it restarts (at least once; consumers keep the first of each id). A second id would be a second event.
        events = ReadDistinct(env, (int)total + 1, TimeSpan.FromSeconds(5));
        Assert.True(events.Count == total, $"{events.Count} distinct events on the topic, {total} published:\n{env.Output}");
        return events;
    }

    private static async Task<long> CountAsync(string schema, string where)
    {
        await using var conn = new Npgsql.NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {schema}.seen_events WHERE {where}", conn);
        try { return (long)(await cmd.ExecuteScalarAsync())!; }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01") { return 0; }
    }

    private static bool IsCreated(GerritEvent e, UploadResult u) =>
        e.Type == "patchset-created" && e.ChangeNumber == u.ChangeNumber && e.PatchSetNumber == u.PatchSet;

    /// <summary>Each upload's patchset-created is on the topic exactly once, caught up from the expected source; no id twice.</summary>
    private static void AssertRecoveredOnce(GerritServiceEnvironment env, List<(string Key, GerritEvent Event)> events,
        IEnumerable<UploadResult> missed, GerritEventSource source)
    {
        foreach (var u in missed)
        {
            var created = events.Where(e => IsCreated(e.Event, u)).ToList();
            Assert.True(created.Count == 1, $"change {u.ChangeNumber},{u.PatchSet}: {created.Count} patchset-created\n{env.Output}");
            var e = created[0];
            Assert.True(e.Event.CaughtUp, $"change {u.ChangeNumber},{u.PatchSet} came from {e.Event.Source}, not caught up\n{env.Output}");
            Assert.Equal(source, e.Event.Source);
            Assert.Equal($"demo/hello~{u.ChangeNumber}", e.Key);
            Assert.Equal(u.Revision, e.Event.Revision);
            Assert.Equal(u.Ref, e.Event.Ref);
        }
        var ids = KafkaTestClient.ReadAll(env.GerritTopic, events.Count, Timeout).Select(r => EventEnvelope.Parse(r.Message.Value).Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // No patch set published twice, whatever its source (live, events-log, REST).
        var keys = events.Where(e => e.Event.Type == "patchset-created").Select(e => (e.Event.ChangeNumber, e.Event.PatchSetNumber)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Patchsets_uploaded_while_the_ssh_connection_is_cut_are_published_once_after_reconnect(bool eventsLog)
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = eventsLog;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var first = await UploadAsync(env, "first");
        var schema = TestInfrastructure.UniqueName("gw_");
        // A slow reconnect (1.5–3 s) so the uploads below surely happen while the gateway is not listening.
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings(backoffSeconds: 3));
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        Assert.True(env.Gerrit.CutSshConnections() > 0);
        var missed = new List<UploadResult>
        {
            await UploadAsync(env, "a"),
            await UploadAsync(env, "b"),
            await UploadAsync(env, "first-v2", first.ChangeId), // a new patch set of an existing change
        };
        Assert.Equal(0, env.Gerrit.StreamConnections);
        await WaitForConnectionsAsync(gateway, 2);

        var events = await WaitForPatchsetsAsync(env, schema, missed.Count);
        AssertRecoveredOnce(env, events, missed, eventsLog ? GerritEventSource.EventsLog : GerritEventSource.RestCatchup);
        Assert.Contains("catch-up for", gateway.Output);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Patchsets_uploaded_while_the_gateway_is_down_are_published_once_after_it_restarts(bool eventsLog)
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = eventsLog;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var first = await UploadAsync(env, "first");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        gateway.KillHard();
        var missed = new List<UploadResult> { await UploadAsync(env, "a"), await UploadAsync(env, "first-v2", first.ChangeId) };
        await env.Gerrit.CommentAsync(missed[0].ChangeNumber, "recheck");

        var restarted = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        await WaitForConnectionsAsync(restarted, 1);
        var events = await WaitForPatchsetsAsync(env, schema, missed.Count);
        AssertRecoveredOnce(env, events, missed, eventsLog ? GerritEventSource.EventsLog : GerritEventSource.RestCatchup);
        var recheck = events.Where(e => e.Event.Type == "comment-added" && e.Event.ChangeNumber == missed[0].ChangeNumber).ToList();
        Assert.Single(recheck);
        Assert.True(recheck[0].Event.CaughtUp);
        Assert.EndsWith("recheck", recheck[0].Event.Comment);
    }

    [Fact]
    public async Task A_dropped_output_event_triggers_the_catch_up()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        // Uploaded before the gateway ever ran, so never streamed to it: it stands for an event Gerrit dropped.
        var dropped = await UploadAsync(env, "dropped");
        var droppedAt = JsonDocument.Parse(dropped.EventJson).RootElement.GetProperty("eventCreatedOn").GetInt64();
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings(overlapSeconds: 0));
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, dropped.ChangeNumber);
        Assert.Equal(0, await CountAsync(schema, "type = 'patchset-created'"));

        // The last event the gateway saw before the overflow: just before the dropped one.
        await using (var conn = new Npgsql.NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand($"UPDATE {schema}.stream_state SET last_event_at = to_timestamp({droppedAt - 1})", conn);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        env.Gerrit.EmitDroppedOutput();

        var events = await WaitForPatchsetsAsync(env, schema, 1);
        AssertRecoveredOnce(env, events, [dropped], GerritEventSource.EventsLog);
        Assert.Contains(events, e => e.Event.Type == "dropped-output");
        Assert.Equal(1, env.Gerrit.StreamConnections); // no reconnect was needed
    }

    private static async Task<HttpResponseMessage> PostAsync(ServiceProcess gateway, string token, string body)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                return await http.PostAsync($"http://127.0.0.1:{gateway.Port}/webhooks/gerrit/{token}",
                    new StringContent(body, Encoding.UTF8, "application/json"));
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
    }

    [Fact]
    public async Task A_webhook_with_the_right_token_publishes_once_and_a_wrong_token_or_a_malformed_body_is_refused()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var viaWebhook = await UploadAsync(env, "hooked"); // before the gateway runs: the stream never delivers it
        var refused = await UploadAsync(env, "refused");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings());
        var plain = env.StartService("gerrit-gateway", "Slipway.GerritGateway", TestInfrastructure.UniqueName("gw_"),
            new Dictionary<string, string?> { ["Gateway__WebhookToken"] = null });
        await WaitForConnectionsAsync(gateway, 1);

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(gateway, "wrong-token-0123456789", refused.EventJson)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(gateway, Token, "{\"type\": ")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(gateway, Token, "{\"change\":{}}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(plain, Token, refused.EventJson)).StatusCode); // no token configured: no endpoint
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(gateway, Token, viaWebhook.EventJson)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(gateway, Token, viaWebhook.EventJson)).StatusCode); // the plugin retried

        var events = await WaitForPatchsetsAsync(env, schema, 1);
        var created = events.Where(e => IsCreated(e.Event, viaWebhook)).ToList();
        Assert.Single(created);
        Assert.Equal(GerritEventSource.Webhook, created[0].Event.Source);
        Assert.False(created[0].Event.CaughtUp);
        Assert.DoesNotContain(events, e => IsCreated(e.Event, refused));
    }
}
