using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Slipway.Hosting;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Jobs;

/// <summary>A stage service's host wiring (storage, messaging, run tracking) with its hosted services running, and old rows in its tables.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task The_inbox_finished_jobs_and_finished_runs_state_older_than_the_window_are_pruned_and_newer_or_open_rows_kept()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("retention_"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Kafka:BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka:TopicPrefix"] = TestInfrastructure.UniqueName("t") + ".",
            ["Retention:Window"] = "7.00:00:00",
            ["Retention:Interval"] = "00:00:01",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(new SlipwayServiceDefinition("retention-test", schema.Value));
        services.AddSlipwayStorage(configuration, schema).AddSlipwayMessaging(configuration).AddRunTracking(configuration);
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        var dataSource = provider.GetRequiredService<NpgsqlDataSource>();
        try
        {
            await hosted[0].StartAsync(CancellationToken.None); // migrations first, as the host does
            await using (var conn = await dataSource.OpenConnectionAsync())
                await conn.ExecuteAsync($$"""
                    INSERT INTO {{schema}}.inbox (consumer, event_id, topic, partition, "offset", handled_at) VALUES
                        ('c', 'old', 't', 0, 1, now() - interval '30 days'),
                        ('c', 'recent', 't', 0, 2, now() - interval '1 day');
                    INSERT INTO {{schema}}.jobs (kind, dedupe_key, payload, state, created_at, updated_at, finished_at) VALUES
                        ('other', 'old-succeeded', '{}', 'succeeded', now() - interval '31 days', now() - interval '30 days', now() - interval '30 days'),
                        ('other', 'old-cancelled', '{}', 'cancelled', now() - interval '31 days', now() - interval '30 days', now() - interval '30 days'),
                        ('other', 'recent-failed', '{}', 'failed', now() - interval '2 days', now() - interval '1 day', now() - interval '1 day'),
                        ('other', 'old-pending', '{}', 'pending', now() - interval '30 days', now() - interval '30 days', NULL);
                    INSERT INTO {{schema}}.run_state (run_id, started, outcome, updated_at) VALUES
                        ('old-finished', '{}', 'succeeded', now() - interval '30 days'),
                        ('recent-finished', '{}', 'failed', now() - interval '1 day');
                    """);
            foreach (var service in hosted.Skip(1)) await service.StartAsync(CancellationToken.None);

            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (await conn.ExecuteScalarAsync<long>($"""
                           SELECT (SELECT count(*) FROM {schema}.inbox) + (SELECT count(*) FROM {schema}.jobs) + (SELECT count(*) FROM {schema}.run_state)
                           """) > 4 && DateTime.UtcNow < deadline)
                    await Task.Delay(200);
                Assert.Equal(["recent"], await conn.QueryAsync<string>($"SELECT event_id FROM {schema}.inbox"));
                Assert.Equal(["old-pending", "recent-failed"], await conn.QueryAsync<string>($"SELECT dedupe_key FROM {schema}.jobs ORDER BY dedupe_key"));
                Assert.Equal(["recent-finished"], await conn.QueryAsync<string>($"SELECT run_id FROM {schema}.run_state"));
            }
        }
        finally
        {
            foreach (var service in Enumerable.Reverse(hosted)) await service.StopAsync(CancellationToken.None);
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
