using System.Diagnostics.Metrics;
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

/// <summary>
/// The relay's outbox depth (the <c>slipway.messaging.outbox_depth</c> gauge) after each batch it relays: the rows
/// still waiting, counted in the same round trip as a full batch's delete, and zero once a partial batch emptied it.
/// </summary>
public sealed class OutboxDepthTests
{
    [Fact]
    public async Task The_depth_after_each_full_batch_is_the_exact_number_of_rows_still_waiting()
    {
        var prefix = TestInfrastructure.UniqueName("t") + ".";
        var schema = new SchemaName(TestInfrastructure.UniqueName("depth_"));
        var services = new ServiceCollection().AddLogging();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Kafka:BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka:TopicPrefix"] = prefix,
            ["Kafka:RelayBatchSize"] = "4",
            // The relay's loop stays off: the test drives each batch itself, so nothing else moves the depth.
            ["Kafka:RelayOutbox"] = "false",
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
            await using (var conn = await dataSource.OpenConnectionAsync())
            await using (var tx = await conn.BeginTransactionAsync())
            {
                for (var seq = 0; seq < 10; seq++)
                    await outbox.AddAsync(tx, topic, "change-1", Event("change-1", seq), CancellationToken.None);
                await tx.CommitAsync();
            }

            var relay = provider.GetRequiredService<OutboxRelay>();
            await relay.StartAsync(CancellationToken.None); // registers the depth gauge; the loop itself is off
            try
            {
                // 10 rows in batches of 4: two full batches (6, then 2 still waiting), then a partial one that empties it.
                Assert.Equal(4, await relay.RelayBatchAsync(CancellationToken.None));
                Assert.Equal(6L, Depth(schema));
                Assert.Equal(4, await relay.RelayBatchAsync(CancellationToken.None));
                Assert.Equal(2L, Depth(schema));
                Assert.Equal(2, await relay.RelayBatchAsync(CancellationToken.None));
                Assert.Equal(0L, Depth(schema));

                // Exactly a batch's worth: the full batch counts what is left (none), then an empty read keeps zero.
                await using (var conn = await dataSource.OpenConnectionAsync())
                await using (var tx = await conn.BeginTransactionAsync())
                {
                    for (var seq = 10; seq < 14; seq++)
                        await outbox.AddAsync(tx, topic, "change-1", Event("change-1", seq), CancellationToken.None);
                    await tx.CommitAsync();
                }
                Assert.Equal(4, await relay.RelayBatchAsync(CancellationToken.None));
                Assert.Equal(0L, Depth(schema));
                Assert.Equal(0, await relay.RelayBatchAsync(CancellationToken.None));
                Assert.Equal(0L, Depth(schema));
            }
            finally
            {
                await relay.StopAsync(CancellationToken.None);
            }
            Assert.Equal(14, KafkaTestClient.ReadAll(topic, 15, TimeSpan.FromSeconds(10)).Count);
        }
        finally
        {
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    /// <summary>The gauge's current value for the schema, read as an exporter would.</summary>
    private static long Depth(SchemaName schema)
    {
        long? value = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MessagingTelemetry.Name && instrument.Name == "slipway.messaging.outbox_depth") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "schema", Value: string s } && s == schema.Value) value = measurement;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.True(value is not null, $"no outbox depth observed for {schema}");
        return value!.Value;
    }

    private static EventEnvelope Event(string key, int seq) =>
        EventEnvelope.Create(new ProbeService.ProbeEvent(key, seq), source: "/tests", subject: key,
            id: DeterministicId.From("outbox-depth", key, seq.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
