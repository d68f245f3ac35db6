using Npgsql;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>The gateway while its Postgres goes away for a few seconds: no Gerrit event may be lost.</summary>
public sealed class GatewayDatabaseBlipTests
{
    /// <summary>
    /// Postgres goes away as in a restart: the gateway's sessions end (their advisory locks with them)
    /// and new connections are refused until the proxy is restored.
    /// </summary>
    private static async Task CutAsync(CuttableTcpProxy proxy, string applicationName)
    {
        proxy.Cut();
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.OpenAsync();
        await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", conn);
        kill.Parameters.Add(new NpgsqlParameter { Value = applicationName });
        await kill.ExecuteScalarAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_patchset_created_while_Postgres_is_unreachable_is_published_once_even_when_later_events_get_through(bool eventsLog)
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = eventsLog;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var first = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "First");
        var pg = new NpgsqlConnectionStringBuilder(TestInfrastructure.PostgresConnectionString);
        await using var proxy = new CuttableTcpProxy(pg.Host!, pg.Port);
        var schema = TestInfrastructure.UniqueName("gw_");
        var viaProxy = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3, ApplicationName = schema };
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = viaProxy.ConnectionString,
        });
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        // Postgres goes away; a patch set arrives on the live stream meanwhile.
        await CutAsync(proxy, schema);
        var lost = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["b"] = "b\n" }, "During the blip");
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains(lost.Revision[..7]) && !gateway.Output.Contains("could not") && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await Task.Delay(TimeSpan.FromSeconds(4)); // the gateway fails to write, whatever it does then
        proxy.Restore();

        // Postgres is back: the next events get through, and must not move the mark past the one missed.
        var after = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["c"] = "c\n" }, "After the blip");
        deadline = DateTime.UtcNow + GatewayTests.Timeout;
        List<(string Key, GerritEvent Event)> events = [];
        while (DateTime.UtcNow < deadline)
        {
            var seen = (int)await SeenAsync(schema);
            events = ReadDistinct(env, seen, TimeSpan.FromSeconds(10));
            if (events.Any(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == lost.ChangeNumber)
                && events.Any(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == after.ChangeNumber)) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        events = ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
        foreach (var u in new[] { lost, after })
            Assert.True(events.Count(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber) == 1,
                $"change {u.ChangeNumber}: {events.Count(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber)} patchset-created\n{gateway.Output}");
        Assert.False(gateway.HasExited);
    }

    [Fact]
    public async Task A_gap_that_begins_while_Postgres_is_unreachable_is_recorded_and_caught_up_when_it_is_back()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false; // recovered through the REST query
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var first = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "First");
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
        await CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        // Postgres goes away, then the stream breaks: the gap cannot be recorded now.
        await CutAsync(proxy, schema);
        Assert.True(env.Gerrit.CutSshConnections() > 0);
        var missed = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["b"] = "b\n" }, "In the gap");
        await WaitForConnectionsAsync(gateway, 2);
        await Task.Delay(TimeSpan.FromSeconds(2));
        proxy.Restore();
        var after = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["c"] = "c\n" }, "After");

        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        List<(string Key, GerritEvent Event)> events = [];
        bool Has(UploadResult u) => events.Any(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == u.ChangeNumber);
        while (DateTime.UtcNow < deadline)
        {
            events = ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
            if (Has(missed) && Has(after)) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        events = ReadDistinct(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(10));
        var recovered = events.Where(e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == missed.ChangeNumber).ToList();
        Assert.True(recovered.Count == 1, $"{recovered.Count} patchset-created for the change in the gap\n{gateway.Output}");
        Assert.Equal(GerritEventSource.RestCatchup, recovered[0].Event.Source);
        Assert.Single(events, e => e.Event.Type == "patchset-created" && e.Event.ChangeNumber == after.ChangeNumber);
    }
}
