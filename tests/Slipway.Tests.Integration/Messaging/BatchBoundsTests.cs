using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

/// <summary>
/// A consumed batch (one database transaction) holds at most <c>Kafka:MaxBatchSize</c> events and ends at the event
/// that reaches <c>Kafka:MaxBatchBytes</c>: a backlog of large events is not held in memory a thousand at a time. The
/// probe's <c>handled</c> rows carry their transaction's id (<c>xmin</c>), so the rows per id are the batch sizes.
/// </summary>
public sealed class BatchBoundsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_backlog_is_handled_in_batches_of_at_most_MaxBatchSize_events()
    {
        await using var env = new ProbeEnvironment();
        const int total = 60;
        for (var seq = 0; seq < total; seq++) await env.Kafka.ProduceAsync(env.InTopic, "change-1", ProbeEnvironment.ProbeEvent("change-1", seq));

        env.StartProbe("only", new Dictionary<string, string?> { ["Kafka__MaxBatchSize"] = "7" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", total, Timeout);

        var sizes = await BatchSizesAsync(env);
        Assert.Equal(total, sizes.Sum());
        Assert.InRange(sizes.Max(), 2, 7);
        Assert.Equal(Enumerable.Range(0, total), await SeqsAsync(env));
    }

    [Fact]
    public async Task A_backlog_of_large_events_is_handled_in_batches_that_end_at_MaxBatchBytes()
    {
        await using var env = new ProbeEnvironment();
        const int total = 30;
        var padding = new string('x', 3000); // each event about 3.3 KB: a batch reaches 10,000 bytes at its 3rd or 4th
        for (var seq = 0; seq < total; seq++)
            await env.Kafka.ProduceAsync(env.InTopic, "change-1", ProbeEnvironment.ProbeEvent("change-1", seq, padding: padding));

        env.StartProbe("only", new Dictionary<string, string?> { ["Kafka__MaxBatchBytes"] = "10000" });
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", total, Timeout);

        var sizes = await BatchSizesAsync(env);
        Assert.Equal(total, sizes.Sum());
        Assert.InRange(sizes.Max(), 2, 4); // the default Kafka:MaxBatchSize (1,000) would take all 30 at once
        Assert.Equal(Enumerable.Range(0, total), await SeqsAsync(env));
    }

    private static async Task<List<int>> BatchSizesAsync(ProbeEnvironment env) =>
        (await env.QueryAsync<long>("SELECT count(*) FROM $schema$.handled GROUP BY xmin::text")).Select(n => (int)n).ToList();

    private static async Task<List<int>> SeqsAsync(ProbeEnvironment env) =>
        (await env.QueryAsync<int>("SELECT seq FROM $schema$.handled ORDER BY order_no")).ToList();
}
