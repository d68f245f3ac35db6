using Confluent.Kafka;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SIGTERM_finishes_the_batch_in_flight_commits_its_offsets_and_exits_0()
    {
        await using var env = new ProbeEnvironment();
        const int total = 300;
        for (var seq = 0; seq < total; seq++)
            await env.Kafka.ProduceAsync(env.InTopic, $"change-{seq % 5}", ProbeEnvironment.ProbeEvent($"change-{seq % 5}", seq, slowMs: 10));

        var probe = env.StartProbe("graceful", new Dictionary<string, string?> { ["Kafka__MaxBatchSize"] = "40" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 50, Timeout);
        probe.Terminate();
        Assert.Equal(0, await probe.WaitForExitAsync(TimeSpan.FromSeconds(40)));

        // Everything handled was committed to Kafka too: the group's offsets add up to the handled count.
        var handled = await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled");
        Assert.InRange(handled, 50, total - 1);
        using var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrap,
            GroupId = env.Schema, // the probe's consumer group
        }).Build();
        var partitions = Enumerable.Range(0, 4).Select(p => new TopicPartition(env.InTopic, p)).ToList();
        var committed = reader.Committed(partitions, TimeSpan.FromSeconds(10));
        Assert.Equal(handled, committed.Sum(c => Math.Max(0, c.Offset.Value)));

        // A successor handles the rest, none twice.
        env.StartProbe("successor");
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", total, Timeout);
        Assert.Equal(total, await env.QueryScalarAsync<long>("SELECT count(DISTINCT event_id) FROM $schema$.handled"));
        Assert.Equal(total, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled"));
    }
}
