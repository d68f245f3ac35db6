using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class OutboxPoisonTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_event_Kafka_refuses_as_too_large_is_dead_lettered_with_its_reason_and_the_events_after_it_flow()
    {
        var prefix = TestInfrastructure.UniqueName("t") + ".";
        var schema = new SchemaName(TestInfrastructure.UniqueName("outbox_"));
        var services = new ServiceCollection().AddLogging();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Kafka:BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka:TopicPrefix"] = prefix,
        }).Build();
        services.AddSlipwayStorage(configuration, schema).AddSlipwayMessaging(configuration);
        await using var provider = services.BuildServiceProvider();
        var dataSource = provider.GetRequiredService<NpgsqlDataSource>();
        try
        {
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema,
                [typeof(Slipway.Storage.Jobs.JobQueue).Assembly, typeof(Outbox).Assembly], NullLogger.Instance);
            var outbox = provider.GetRequiredService<Outbox>();
            var topic = prefix + "probe.out";
            var huge = Event("change-1", 1, new string('x', 2_000_000)); // over the producer's 1 MB message limit
            await using (var conn = await dataSource.OpenConnectionAsync())
            await using (var tx = await conn.BeginTransactionAsync())
            {
                await outbox.AddAsync(tx, topic, "change-1", Event("change-1", 0), CancellationToken.None);
                await outbox.AddAsync(tx, topic, "change-1", huge, CancellationToken.None);
                await outbox.AddAsync(tx, topic, "change-1", Event("change-1", 2), CancellationToken.None);
                await tx.CommitAsync();
            }

            var relay = provider.GetRequiredService<OutboxRelay>();
            Assert.Equal(3, await relay.RelayBatchAsync(CancellationToken.None));

            await using (var conn = await dataSource.OpenConnectionAsync())
                Assert.Equal(0L, await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.outbox"));
            var delivered = KafkaTestClient.ReadAll(topic, 2, Timeout);
            Assert.Equal([Event("change-1", 0).Id, Event("change-1", 2).Id],
                delivered.Select(d => EventEnvelope.Parse(d.Message.Value).Id).ToList());

            var dead = Assert.Single(KafkaTestClient.ReadAll(prefix + Topics.DeadLetter, 1, Timeout));
            Assert.Equal("change-1", dead.Message.Key);
            Assert.Equal(huge.Id, KafkaTestClient.Header(dead, KafkaHeaderNames.EventId));
            Assert.Equal(topic, KafkaTestClient.Header(dead, KafkaHeaderNames.DeadLetterTopic));
            Assert.Equal("outbox", KafkaTestClient.Header(dead, KafkaHeaderNames.DeadLetterConsumer));
            Assert.Equal("true", KafkaTestClient.Header(dead, KafkaHeaderNames.DeadLetterTruncated));
            var reason = KafkaTestClient.Header(dead, KafkaHeaderNames.DeadLetterReason)!;
            Assert.StartsWith($"Kafka refused the event for {topic}: MsgSizeTooLarge", reason);
            // The event itself is too large for the dead-letter topic too: a summary stands in for it.
            var record = JsonSerializer.Deserialize<JsonElement>(dead.Message.Value);
            Assert.Equal(huge.Id, record.GetProperty("eventId").GetString());
            Assert.Equal(reason, record.GetProperty("reason").GetString());
            Assert.Equal(huge.ToUtf8Json().Length, record.GetProperty("payloadBytes").GetInt32());
            Assert.True(dead.Message.Value.Length < 100_000, $"the dead-letter record has {dead.Message.Value.Length} bytes");
        }
        finally
        {
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private static EventEnvelope Event(string key, int seq, string? padding = null) =>
        EventEnvelope.Create(new ProbeService.ProbeEvent(padding ?? key, seq), source: "/tests", subject: key,
            id: DeterministicId.From("outbox-poison", key, seq.ToString()));
}
