using System.Text;
using Slipway.Messaging;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class DeadLetterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_poison_message_is_dead_lettered_after_the_retries_with_its_reason_and_the_rest_keep_flowing()
    {
        await using var env = new ProbeEnvironment();
        const string key = "change-7";
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 0));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 1, poison: true));
        await env.Kafka.ProduceRawAsync(env.InTopic, key, Encoding.UTF8.GetBytes("{not json"));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 2));
        await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, 3));

        var probe = env.StartProbe("only", new Dictionary<string, string?>
        {
            ["Kafka__MaxRetries"] = "2",
            ["Kafka__RetryBackoffMilliseconds"] = "50",
        });

        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 3, Timeout);
        Assert.Equal([0, 2, 3], await env.QueryAsync<int>("SELECT seq FROM $schema$.handled ORDER BY order_no"));

        var dead = KafkaTestClient.ReadAll(env.DeadLetterTopic, 2, Timeout);
        Assert.Equal(2, dead.Count);
        var malformed = dead.Single(d => Encoding.UTF8.GetString(d.Message.Value) == "{not json");
        var poison = dead.Single(d => d != malformed);
        Assert.Equal(key, poison.Message.Key);
        Assert.Equal("InvalidOperationException: poison event change-7/1", KafkaTestClient.Header(poison, KafkaHeaderNames.DeadLetterReason));
        Assert.Equal("3", KafkaTestClient.Header(poison, KafkaHeaderNames.DeadLetterAttempts));
        Assert.Equal(env.InTopic, KafkaTestClient.Header(poison, KafkaHeaderNames.DeadLetterTopic));
        Assert.Equal("probe", KafkaTestClient.Header(poison, KafkaHeaderNames.DeadLetterConsumer));

        Assert.StartsWith("invalid event: not valid JSON", KafkaTestClient.Header(malformed, KafkaHeaderNames.DeadLetterReason));
        Assert.Equal("0", KafkaTestClient.Header(malformed, KafkaHeaderNames.DeadLetterAttempts));

        // The same story in the service's metrics (Prometheus text on /metrics).
        var metrics = await (await probe.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Equal(3, MetricValue(metrics, "slipway_messaging_handled_total"));
        Assert.Equal(2, MetricValue(metrics, "slipway_messaging_dead_lettered_total"));
        Assert.Equal(2, MetricValue(metrics, "slipway_messaging_retried_total"));
        Assert.Contains("slipway_messaging_consumer_lag{", metrics);
        Assert.Contains("slipway_messaging_outbox_depth{", metrics);
    }

    /// <summary>Sum of a metric's samples in Prometheus text format.</summary>
    private static double MetricValue(string exposition, string name) =>
        exposition.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture)); // "name{labels} value"
}
