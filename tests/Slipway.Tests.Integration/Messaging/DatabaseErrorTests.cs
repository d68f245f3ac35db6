using Slipway.Messaging;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class DatabaseErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task An_event_whose_handling_always_hits_a_statement_timeout_or_out_of_memory_is_dead_lettered_after_the_retries_and_the_partition_moves_on()
    {
        await using var env = new ProbeEnvironment();
        const string key = "change-9";
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 0));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 1, sqlFault: "statement-timeout"));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 2, sqlFault: "out-of-memory"));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 3));

        env.StartProbe("only", new Dictionary<string, string?>
        {
            ["Kafka__MaxRetries"] = "2",
            ["Kafka__RetryBackoffMilliseconds"] = "50",
        });

        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 2, Timeout);
        Assert.Equal([0, 3], await env.QueryAsync<int>("SELECT seq FROM $schema$.handled ORDER BY order_no"));

        var dead = KafkaTestClient.ReadAll(env.DeadLetterTopic, 2, Timeout);
        Assert.Equal(2, dead.Count);
        Assert.All(dead, d => Assert.Equal("3", KafkaTestClient.Header(d, KafkaHeaderNames.DeadLetterAttempts)));
        var reasons = dead.Select(d => KafkaTestClient.Header(d, KafkaHeaderNames.DeadLetterReason)!).ToList();
        Assert.StartsWith("PostgresException: 57014:", reasons[0]);
        Assert.StartsWith("PostgresException: 53200: out of memory (probe)", reasons[1]);
    }
}
