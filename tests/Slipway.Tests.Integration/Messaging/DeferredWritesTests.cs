using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Tests.Integration.Support;
using ProbeEvent = Slipway.Tests.ProbeService.ProbeEvent;

namespace Slipway.Tests.Integration.Messaging;

/// <summary>
/// Handlers that defer their writes to the batch's end (<see cref="MessageContext.Writes"/>, sent with the outbox rows in
/// one round trip before the commit): each event is still recorded once in the inbox and handled once, copies inside a
/// batch included, in order per key; a deferred statement that fails lands on its own event, which is dead-lettered
/// while the rest of its batch is handled once.
/// </summary>
public sealed class DeferredWritesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_batch_with_copies_of_events_records_each_event_once_and_runs_each_handler_once()
    {
        await using var env = new ProbeEnvironment();
        const int distinct = 120;
        var inputs = Enumerable.Range(0, distinct).Select(seq => ProbeEnvironment.ProbeEvent($"change-{seq % 4}", seq)).ToList();
        // Every third event is on the topic twice, the copy right behind it (a producer's retry): same id, same key.
        foreach (var input in inputs)
        {
            await env.Kafka.ProduceAsync(env.InTopic, input.Subject!, input);
            if (inputs.IndexOf(input) % 3 == 0) await env.Kafka.ProduceAsync(env.InTopic, input.Subject!, input);
        }

        // Everything is on the topic before the probe starts, so batches of up to 1,000 hold the copies with their originals.
        env.StartProbe("only", new Dictionary<string, string?>
        {
            ["Probe__DeferWrites"] = "true", ["Probe__Echo"] = "true", ["Kafka__MaxBatchSize"] = "1000",
        });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", distinct, Timeout);
        // Ask for one more than expected: a second handling would show as a second echo within the wait.
        var emitted = KafkaTestClient.ReadAll(env.OutTopic, distinct + 1, TimeSpan.FromSeconds(15));

        Assert.Equal(distinct, emitted.Count);
        Assert.Equal(distinct, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.handled"));
        Assert.Equal(distinct, await env.QueryScalarAsync<long>("SELECT count(DISTINCT event_id) FROM $schema$.handled"));
        Assert.Equal(distinct, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.inbox"));
        Assert.Equal(inputs.Select(i => i.Id).Order(), (await env.QueryAsync<string>("SELECT event_id FROM $schema$.inbox")).Order());
        // The deferred rows were written in the order the handlers ran: per key, the order of the topic.
        var handledSeqs = await env.QueryAsync<int>("SELECT seq FROM $schema$.handled ORDER BY order_no");
        foreach (var key in Enumerable.Range(0, 4))
            Assert.Equal(Enumerable.Range(0, distinct).Where(s => s % 4 == key), handledSeqs.Where(s => s % 4 == key));
        Assert.Equal(inputs.Select(i => DeterministicId.From("probe-echo", i.Id)).Order(),
            emitted.Select(e => EventEnvelope.Parse(e.Message.Value).Id).Order());
        Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
    }

    [Fact]
    public async Task A_deferred_statement_that_fails_dead_letters_its_own_event_and_the_rest_of_the_batch_is_handled_once()
    {
        await using var env = new ProbeEnvironment();
        const string key = "change-7";
        for (var seq = 0; seq < 40; seq++)
            await env.Kafka.ProduceAsync(env.InTopic, key,
                ProbeEnvironment.ProbeEvent(key, seq, sqlFault: seq == 25 ? "deferred-not-null" : null));

        env.StartProbe("only", new Dictionary<string, string?>
        {
            ["Probe__DeferWrites"] = "true", ["Probe__Echo"] = "true",
            ["Kafka__MaxRetries"] = "1", ["Kafka__RetryBackoffMilliseconds"] = "20",
        });
        var dead = KafkaTestClient.ReadAll(env.DeadLetterTopic, 1, Timeout);
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 39, Timeout);
        var emitted = KafkaTestClient.ReadAll(env.OutTopic, 40, TimeSpan.FromSeconds(15));

        // The batch rolled back whole (its inbox rows, deferred rows and outbox rows); one by one, only event 25's own
        // statement failed, twice, and it went to the dead-letter topic with the server's reason.
        var poisoned = DeterministicId.From("probe-echo", ProbeEnvironment.ProbeEvent(key, 25).Id);
        Assert.Single(dead);
        Assert.Equal("2", KafkaTestClient.Header(dead[0], KafkaHeaderNames.DeadLetterAttempts));
        Assert.StartsWith("PostgresException: 23502:", KafkaTestClient.Header(dead[0], KafkaHeaderNames.DeadLetterReason));
        Assert.Equal(Enumerable.Range(0, 40).Where(s => s != 25), await env.QueryAsync<int>("SELECT seq FROM $schema$.handled ORDER BY order_no"));
        Assert.Equal(39, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.inbox"));
        Assert.Equal(Enumerable.Range(0, 40).Where(s => s != 25),
            emitted.Select(e => EventEnvelope.Parse(e.Message.Value).DataAs<ProbeEvent>().Seq));
        Assert.DoesNotContain(emitted, e => EventEnvelope.Parse(e.Message.Value).Id == poisoned);
        Assert.Equal(0, await env.QueryScalarAsync<long>("SELECT count(*) FROM $schema$.outbox"));
    }
}
