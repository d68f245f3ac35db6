using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

/// <summary>Real Kafka protocol (the embedded broker), real Postgres, services as separate processes.</summary>
public sealed class ConsumerGroupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_instances_share_the_partitions_and_keep_each_keys_order()
    {
        await using var env = new ProbeEnvironment();
        await env.Kafka.ProduceAsync(env.InTopic, "warmup", ProbeEnvironment.ProbeEvent("warmup", 0)); // creates the topic
        var a = env.StartProbe("a");
        var b = env.StartProbe("b");
        await a.WaitUntilAssignedAsync(Timeout);
        await b.WaitUntilAssignedAsync(Timeout);
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 1, Timeout);

        const int keys = 12, perKey = 25;
        for (var seq = 0; seq < perKey; seq++)
            for (var k = 0; k < keys; k++)
                await env.Kafka.ProduceAsync(env.InTopic, $"change-{k}", ProbeEnvironment.ProbeEvent($"change-{k}", seq));

        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled WHERE key <> 'warmup'", keys * perKey, Timeout);

        var rows = await env.QueryAsync<(string Key, int Seq, string Instance)>(
            "SELECT key, seq, instance FROM $schema$.handled WHERE key <> 'warmup' ORDER BY order_no");
        Assert.Equal(keys * perKey, rows.Count);
        Assert.Equal(keys * perKey, rows.Select(r => (r.Key, r.Seq)).Distinct().Count());
        var byInstance = rows.GroupBy(r => r.Instance).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byInstance.Count == 2, $"both instances handle events, got {string.Join(", ", byInstance)}");
        foreach (var key in rows.GroupBy(r => r.Key))
            Assert.Equal(Enumerable.Range(0, perKey), key.Select(r => r.Seq));
    }
}
