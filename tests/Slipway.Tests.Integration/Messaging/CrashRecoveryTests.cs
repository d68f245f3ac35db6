using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class CrashRecoveryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Kill_9_in_the_middle_of_a_batch_loses_nothing_and_handles_each_event_once()
    {
        await using var env = new ProbeEnvironment();
        const int total = 400;
        for (var seq = 0; seq < total; seq++)
            await env.Kafka.ProduceAsync(env.InTopic, $"change-{seq % 7}", ProbeEnvironment.ProbeEvent($"change-{seq % 7}", seq, slowMs: 10));

        var first = env.StartProbe("first", new Dictionary<string, string?> { ["Kafka__MaxBatchSize"] = "50" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 60, Timeout);
        first.KillHard();
        var handledBeforeKill = await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled");
        Assert.InRange(handledBeforeKill, 60, total - 1);

        env.StartProbe("second", new Dictionary<string, string?> { ["Kafka__MaxBatchSize"] = "50" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", total, Timeout);
        await Task.Delay(TimeSpan.FromSeconds(2)); // give any duplicate handling time to show

        Assert.Equal(total, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled"));
        Assert.Equal(total, await env.QueryScalarAsync<long>("SELECT count(DISTINCT event_id) FROM $schema$.handled"));
        Assert.Equal(total, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.inbox"));
    }

    [Fact]
    public async Task A_crash_after_the_database_commit_but_before_the_produce_still_emits_the_event_once()
    {
        await using var env = new ProbeEnvironment();
        var noRelay = new Dictionary<string, string?> { ["Probe__Echo"] = "true", ["Kafka__RelayOutbox"] = "false" };
        var crashing = env.StartProbe("crashing", noRelay);
        var input = ProbeEnvironment.ProbeEvent("change-1", 1);
        await env.Kafka.ProduceAsync(env.InTopic, "change-1", input);
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.outbox", 1, Timeout);
        crashing.KillHard();

        Assert.Empty(KafkaTestClient.ReadAll(env.OutTopic, 1, TimeSpan.FromSeconds(3)));

        env.StartProbe("restarted", new Dictionary<string, string?> { ["Probe__Echo"] = "true" });
        var emitted = KafkaTestClient.ReadAll(env.OutTopic, 2, TimeSpan.FromSeconds(20));

        var only = Assert.Single(emitted);
        Assert.Equal("change-1", only.Message.Key);
        Assert.Equal(Slipway.Contracts.DeterministicId.From("probe-echo", input.Id),
            Slipway.Contracts.EventEnvelope.Parse(only.Message.Value).Id);
        Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
        Assert.Equal(1, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled"));
    }
}
