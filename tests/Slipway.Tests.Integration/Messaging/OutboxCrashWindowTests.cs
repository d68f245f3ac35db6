using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

/// <summary>
/// A service killed after Kafka acknowledged its outbox batch and before the batch's delete: the window is made certain
/// with the relay's testing aid (Messaging:FaultInjection:HoldAfterProduceFile), not hit by luck.
/// </summary>
public sealed class OutboxCrashWindowTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task An_event_produced_but_not_deleted_when_the_relay_dies_is_produced_again_and_its_consumer_acts_on_it_once()
    {
        var env = new ProbeEnvironment();
        var consumerSchema = TestInfrastructure.UniqueName("probe_");
        var holdDir = Directory.CreateTempSubdirectory("slipway-hold-");
        var hold = Path.Combine(holdDir.FullName, "hold-after-produce");
        try
        {
            // The consumer: a second probe (own schema and group) reading the first one's echoes from probe.out. A first
            // event written straight to probe.out creates the topic, so the consumer can be assigned before the test.
            await env.Kafka.ProduceAsync(env.OutTopic, "change-1", ProbeEnvironment.ProbeEvent("change-1", 100));
            var consumer = env.StartProbe("consumer", new Dictionary<string, string?>
            {
                ["Probe__Schema"] = consumerSchema, ["Kafka__ConsumerGroup"] = consumerSchema, ["Probe__InTopic"] = "probe.out",
            });
            await consumer.WaitUntilAssignedAsync(Timeout);

            // The producer: echoes probe.in to probe.out through its outbox, and holds each acknowledged batch while the file exists.
            await File.WriteAllTextAsync(hold, "");
            var crashing = env.StartProbe("crashing", new Dictionary<string, string?>
            {
                ["Probe__Echo"] = "true", ["Messaging__FaultInjection__HoldAfterProduceFile"] = hold,
            });
            var input = ProbeEnvironment.ProbeEvent("change-1", 1);
            var echoId = DeterministicId.From("probe-echo", input.Id);
            await env.Kafka.ProduceAsync(env.InTopic, "change-1", input);

            // Kafka has the echo (the consumer acted on it) and the relay holds it in the outbox: kill -9 in the window.
            await WaitUntilAsync(() => crashing.Output.Contains("outbox: fault injection: holding 1 acknowledged event(s)", StringComparison.Ordinal),
                "the relay holding the acknowledged batch", crashing);
            await WaitForAsync(consumerSchema, $"SELECT count(*) FROM $schema$.handled WHERE event_id = '{echoId}'", 1);
            Assert.Equal(1, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
            crashing.KillHard();
            File.Delete(hold);
            Assert.Equal(1, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));

            // Restarted (no testing aid), the relay produces the undeleted event again, with the same id.
            env.StartProbe("restarted", new Dictionary<string, string?> { ["Probe__Echo"] = "true" });
            await env.WaitForCountAsync("SELECT 1 - count(*) FROM $schema$.outbox", 1, Timeout);
            var copies = KafkaTestClient.ReadAll(env.OutTopic, 2, Timeout, r => EventEnvelope.Parse(r.Message.Value).Id == echoId)
                .Where(r => EventEnvelope.Parse(r.Message.Value).Id == echoId).ToList();
            Assert.Equal(2, copies.Count);
            Assert.Single(copies.Select(c => c.Partition.Value).Distinct());

            // A last event behind the copy on the same partition: once the consumer handled it, it has read the copy too.
            var marker = ProbeEnvironment.ProbeEvent("change-1", 2);
            await env.Kafka.ProduceAsync(env.OutTopic, "change-1", marker);
            var markerRecord = KafkaTestClient.ReadAll(env.OutTopic, 1, Timeout, r => EventEnvelope.Parse(r.Message.Value).Id == marker.Id)
                .Single(r => EventEnvelope.Parse(r.Message.Value).Id == marker.Id);
            Assert.Equal(copies[0].Partition.Value, markerRecord.Partition.Value);
            Assert.True(markerRecord.Offset.Value > copies[1].Offset.Value);
            await WaitForAsync(consumerSchema, $"SELECT count(*) FROM $schema$.handled WHERE event_id = '{marker.Id}'", 1);

            // The effect happened once: the consumer's inbox dropped the second copy.
            Assert.Equal(1, await CountAsync(consumerSchema, $"SELECT count(*) FROM $schema$.handled WHERE event_id = '{echoId}'"));
            Assert.Equal(1, await CountAsync(consumerSchema, $"SELECT count(*) FROM $schema$.inbox WHERE event_id = '{echoId}'"));
            Assert.Equal(3, await CountAsync(consumerSchema, "SELECT count(*) FROM $schema$.handled"));
            Assert.Equal(1, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled"));
            Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
        }
        finally
        {
            await env.DisposeAsync(); // its processes first: the consumer writes to its schema until killed
            await using (var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
                await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {consumerSchema} CASCADE");
            holdDir.Delete(recursive: true);
        }
    }

    private static async Task<long> CountAsync(string schema, string sql)
    {
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        return await conn.ExecuteScalarAsync<long>(sql.Replace("$schema$", schema));
    }

    private static async Task WaitForAsync(string schema, string sql, long count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        long current = -1;
        while (DateTime.UtcNow < deadline)
        {
            try { current = await CountAsync(schema, sql); }
            catch (PostgresException e) when (e.SqlState == "42P01") { } // not migrated yet
            if (current >= count) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"`{sql}` reached {current}, not {count}, within {Timeout}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, ServiceProcess process)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"no {what} within {Timeout}:\n{process.Output}");
            await Task.Delay(100);
        }
    }
}
