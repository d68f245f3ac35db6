using Slipway.Contracts;
using Slipway.Tests.Integration.Support;
using ProbeEvent = Slipway.Tests.ProbeService.ProbeEvent;

namespace Slipway.Tests.Integration.Messaging;

/// <summary>
/// The consumer host inserts a batch's outgoing events with one statement before the batch commits: each event still
/// leaves exactly once, in the order its handler added it per key, and a batch that fails leaves none of its events.
/// </summary>
public sealed class BatchedOutboxTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Events_added_by_the_handlers_of_a_batch_are_each_emitted_once_in_order_per_key()
    {
        await using var env = new ProbeEnvironment();
        const int total = 300;
        var inputs = Enumerable.Range(0, total).Select(seq => ProbeEnvironment.ProbeEvent($"change-{seq % 5}", seq)).ToList();
        foreach (var input in inputs) await env.Kafka.ProduceAsync(env.InTopic, input.Subject!, input);

        env.StartProbe("only", new Dictionary<string, string?> { ["Probe__Echo"] = "true", ["Kafka__MaxBatchSize"] = "100" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", total, Timeout);
        // Ask for one more than expected: a copy would show within the wait.
        var emitted = KafkaTestClient.ReadAll(env.OutTopic, total + 1, TimeSpan.FromSeconds(15));

        Assert.Equal(total, emitted.Count);
        Assert.Equal(inputs.Select(i => DeterministicId.From("probe-echo", i.Id)).Order(),
            emitted.Select(e => EventEnvelope.Parse(e.Message.Value).Id).Order());
        foreach (var perKey in emitted.GroupBy(e => e.Message.Key))
        {
            var seqs = perKey.Select(e => EventEnvelope.Parse(e.Message.Value).DataAs<ProbeEvent>().Seq).ToList();
            Assert.Equal(Enumerable.Range(0, total).Where(s => $"change-{s % 5}" == perKey.Key), seqs);
        }
        Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
    }

    [Fact]
    public async Task A_batch_that_fails_leaves_no_events_behind_and_the_retried_events_emit_once()
    {
        await using var env = new ProbeEnvironment();
        const string key = "change-3";
        for (var seq = 0; seq < 40; seq++)
            await env.Kafka.ProduceAsync(env.InTopic, key, ProbeEnvironment.ProbeEvent(key, seq, poison: seq == 20));

        env.StartProbe("only", new Dictionary<string, string?>
        {
            ["Probe__Echo"] = "true", ["Kafka__MaxRetries"] = "1", ["Kafka__RetryBackoffMilliseconds"] = "20",
        });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 39, Timeout);
        var emitted = KafkaTestClient.ReadAll(env.OutTopic, 40, TimeSpan.FromSeconds(15));

        // The batch holding the poison event rolled back with the events its handlers had added; handled one by one,
        // every other event emitted once, in order.
        Assert.Equal(Enumerable.Range(0, 40).Where(s => s != 20),
            emitted.Select(e => EventEnvelope.Parse(e.Message.Value).DataAs<ProbeEvent>().Seq));
        Assert.Single(KafkaTestClient.ReadAll(env.DeadLetterTopic, 1, Timeout));
        Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
    }
}
