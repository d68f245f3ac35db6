using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Messaging;

/// <summary>
/// Consumes a service's topics in its consumer group and hands each event to the handler inside
/// a transaction that also writes the inbox row, then commits the Kafka offsets (manual commit,
/// after the database commit: at-least-once, made exactly-once in effect by the inbox).
/// Messages are taken in batches handled in one transaction; if a batch fails, its messages
/// are retried one by one with backoff, and one that still fails goes to the dead-letter
/// topic with the reason so the partition moves on.
/// </summary>
public sealed class KafkaConsumerHost(
    ConsumerRegistration registration,
    IServiceProvider services,
    NpgsqlDataSource dataSource,
    SchemaName schema,
    Outbox outbox,
    TopicNames topics,
    DeadLetterPublisher deadLetters,
    IOptions<KafkaOptions> options,
    IHostEnvironment environment,
    ILogger<KafkaConsumerHost> logger) : BackgroundService
{
    private readonly KafkaOptions _options = options.Value;
    private readonly Inbox _inbox = new(schema);
    private long _lag;
    private volatile bool _assigned;

    /// <summary>True once the group has given this instance its partitions (readiness).</summary>
    public bool IsAssigned => _assigned;

    public string Name => registration.Name;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // The Kafka client blocks in Consume: give the loop its own thread.
        Task.Factory.StartNew(() => RunAsync(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        MessagingTelemetry.ObserveLag(registration.Name, () => Interlocked.Read(ref _lag));
        var groupId = _options.ConsumerGroup ?? environment.ApplicationName;
        var config = new ConsumerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            GroupId = groupId,
            ClientId = $"{groupId}-{registration.Name}-{Environment.ProcessId}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 2_000,
            MaxPollIntervalMs = 600_000,
            FetchMaxBytes = 50 * 1024 * 1024,
            // librdkafka waits up to 500 ms for more data on an idle partition; a pipeline hop should cost milliseconds.
            FetchWaitMaxMs = 20,
            // Lets a service start before any event was produced (brokers that forbid auto-creation ignore it).
            AllowAutoCreateTopics = true,
            // Notice soon a topic created after the service started (librdkafka's default is 5 minutes).
            TopicMetadataRefreshIntervalMs = 5_000,
        };
        KafkaLatency.Apply(config, _options);
        KafkaMemoryLimits.Apply(config, _options);
        using var consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                _assigned = true;
                logger.LogInformation("{Consumer}: assigned {Partitions}", registration.Name, string.Join(",", parts.Select(p => $"{p.Topic}[{p.Partition.Value}]")));
            })
            .SetPartitionsRevokedHandler((_, parts) =>
                logger.LogInformation("{Consumer}: revoked {Partitions}", registration.Name, string.Join(",", parts.Select(p => $"{p.Topic}[{p.Partition.Value}]"))))
            .SetLogHandler((_, m) => logger.Log(m.Level <= SyslogLevel.Error ? LogLevel.Warning : LogLevel.Debug,
                "kafka consumer: {Facility} {Message}", m.Facility, m.Message))
            .Build();

        var realTopics = registration.LogicalTopics.Select(topics.Resolve).ToList();
        consumer.Subscribe(realTopics);
        logger.LogInformation("{Consumer}: consuming {Topics} as group {Group}", registration.Name, string.Join(",", realTopics), groupId);

        var lastLag = DateTime.UtcNow;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = CollectBatch(consumer, stoppingToken);
                if (batch.Count > 0)
                {
                    var done = new List<ConsumeResult<string, byte[]>>();
                    try
                    {
                        // In-flight work finishes even when shutdown starts: it is committed, not abandoned.
                        await HandleBatchAsync(batch, done, CancellationToken.None);
                        CommitOffsets(consumer, batch);
                    }
                    catch (Exception e)
                    {
                        // Postgres or Kafka unreachable (or shutdown during an outage): keep what was finished
                        // (handled or dead-lettered, one by one) and read the rest again once things answer again.
                        if (!stoppingToken.IsCancellationRequested)
                            logger.LogWarning("{Consumer}: batch of {Count} not handled ({Error}); retrying its {Left} unfinished",
                                registration.Name, batch.Count, e.Message, batch.Count - done.Count);
                        if (done.Count > 0) CommitOffsets(consumer, done);
                        RewindToBatchStart(consumer, batch.Except(done).ToList(), logger);
                        if (!stoppingToken.IsCancellationRequested) await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
                    }
                }
                if (DateTime.UtcNow - lastLag > TimeSpan.FromSeconds(1))
                {
                    Interlocked.Exchange(ref _lag, ComputeLag(consumer));
                    lastLag = DateTime.UtcNow;
                }
            }
        }
        finally
        {
            // Leave the group at once so the partitions move to another instance without waiting for the session timeout.
            try { consumer.Close(); } catch (Exception e) { logger.LogWarning(e, "closing consumer {Consumer}", registration.Name); }
        }
    }

    private List<ConsumeResult<string, byte[]>> CollectBatch(IConsumer<string, byte[]> consumer, CancellationToken ct)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
        try
        {
            var first = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (first is null) return batch;
            batch.Add(first);
            long bytes = first.Message.Value?.Length ?? 0;
            while (batch.Count < _options.MaxBatchSize && bytes < _options.MaxBatchBytes && !ct.IsCancellationRequested)
            {
                var next = consumer.Consume(TimeSpan.Zero);
                if (next is null) break;
                batch.Add(next);
                bytes += next.Message.Value?.Length ?? 0;
            }
        }
        catch (ConsumeException e)
        {
            logger.LogWarning("{Consumer}: consume error {Reason}", registration.Name, e.Error.Reason);
        }
        return batch;
    }

    /// <summary>
    /// Moves the consumer back to the batch's first offsets, so the batch is read again. A partition revoked while the
    /// batch was handled is skipped: its new owner reads it from the last committed offset (and the inbox drops what
    /// was handled), so a rebalance never faults the consumer.
    /// </summary>
    internal static void RewindToBatchStart(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch, ILogger logger)
    {
        var held = consumer.Assignment.ToHashSet();
        foreach (var first in batch.GroupBy(r => r.TopicPartition).Select(g => g.MinBy(r => r.Offset.Value)!))
        {
            if (!held.Contains(first.TopicPartition)) continue;
            try { consumer.Seek(first.TopicPartitionOffset); }
            catch (KafkaException e)
            {
                // Revoked between the check and the seek.
                logger.LogInformation("not rewinding {Partition}: {Reason}", first.TopicPartition, e.Error.Reason);
            }
        }
    }

    private void CommitOffsets(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch)
    {
        // Only partitions still held: a revoked partition's new owner commits its own progress.
        var held = consumer.Assignment.ToHashSet();
        var offsets = batch.GroupBy(r => r.TopicPartition)
            .Where(g => held.Contains(g.Key))
            .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1))
            .ToList();
        if (offsets.Count == 0) return;
        try { consumer.Commit(offsets); }
        catch (KafkaException e)
        {
            // E.g. the partitions moved during a rebalance: the next owner re-reads them and the inbox drops what was handled.
            logger.LogWarning("{Consumer}: offset commit failed ({Reason}); re-delivery will be deduplicated", registration.Name, e.Error.Reason);
        }
    }

    private static long ComputeLag(IConsumer<string, byte[]> consumer)
    {
        long lag = 0;
        try
        {
            foreach (var tp in consumer.Assignment)
            {
                var marks = consumer.GetWatermarkOffsets(tp);
                var position = consumer.Position(tp);
                if (marks.High.Value >= 0 && position.Value >= 0) lag += Math.Max(0, marks.High.Value - position.Value);
            }
        }
        catch (KafkaException) { }
        return lag;
    }

    /// <summary>
    /// Handles a batch in one transaction; on any failure falls back to one message at a time. <paramref name="done"/>
    /// collects the messages finished (handled or dead-lettered), in order, so an outage midway keeps them.
    /// </summary>
    internal async Task HandleBatchAsync(List<ConsumeResult<string, byte[]>> batch, List<ConsumeResult<string, byte[]>> done,
        CancellationToken ct)
    {
        var parsed = batch.Select(r => (Result: r, Envelope: TryParse(r, out var error), Error: error)).ToList();
        if (parsed.All(p => p.Envelope is not null) && batch.Count > 1)
        {
            try
            {
                await using var conn = await dataSource.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                // The handlers' outgoing events are inserted with one statement before the commit, not one each.
                using var deferred = _options.BatchOutboxInserts ? outbox.Defer(tx) : null;
                // One inbox statement for the whole batch; the events it did not insert were handled before.
                var fresh = await RecordInInboxAsync(tx, parsed.Select(p => (p.Result, p.Envelope!)).ToList(), ct);
                var writes = new DeferredWrites();
                var handled = 0;
                foreach (var (result, envelope, _) in parsed)
                {
                    // Remove: a second copy of an event within the batch is a duplicate too.
                    if (!fresh.Remove(envelope!.Id)) continue;
                    await RunHandlerAsync(tx, result, envelope, writes, ct);
                    handled++;
                }
                MessagingTelemetry.Duplicates.Add(batch.Count - handled, new KeyValuePair<string, object?>("consumer", registration.Name));
                // The handlers' deferred statements and the outbox rows: one round trip, then the commit.
                await SendDeferredAsync(tx, writes, deferred, ct);
                await tx.CommitAsync(ct);
                MessagingTelemetry.Handled.Add(handled, new KeyValuePair<string, object?>("consumer", registration.Name));
                done.AddRange(batch);
                return;
            }
            catch (Exception e)
            {
                logger.LogInformation("{Consumer}: batch of {Count} failed ({Error}); handling one by one", registration.Name, batch.Count, e.Message);
            }
        }
        foreach (var (result, envelope, error) in parsed)
        {
            if (envelope is null)
                await DeadLetterAsync(result, error!, attempts: 0, ct);
            else
                await HandleWithRetriesAsync(result, envelope, ct);
            done.Add(result);
        }
    }

    private async Task HandleWithRetriesAsync(ConsumeResult<string, byte[]> result, EventEnvelope envelope, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = await dataSource.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                var handled = await HandleInTransactionAsync(tx, result, envelope, ct);
                await tx.CommitAsync(ct);
                if (handled) MessagingTelemetry.Handled.Add(1, new KeyValuePair<string, object?>("consumer", registration.Name));
                return;
            }
            catch (Exception e) when (IsInfrastructureOutage(e))
            {
                // Not the message's fault: never dead-letter for an outage; the batch is read again later.
                throw;
            }
            catch (Exception e)
            {
                if (attempt > _options.MaxRetries)
                {
                    // A database error that persisted (a statement timeout, out of memory) is this event's when Postgres
                    // otherwise answers; if it does not, it is an outage and the event waits.
                    if (FindPostgresError(e) is not null && !await DatabaseAnswersAsync(ct)) throw;
                    await DeadLetterAsync(result, $"{e.GetType().Name}: {e.Message}", attempt, ct);
                    return;
                }
                MessagingTelemetry.Retried.Add(1, new KeyValuePair<string, object?>("consumer", registration.Name));
                var backoff = Math.Min(_options.MaxRetryBackoffMilliseconds, _options.RetryBackoffMilliseconds * Math.Pow(2, attempt - 1));
                var jittered = TimeSpan.FromMilliseconds(backoff * (0.5 + Random.Shared.NextDouble() / 2));
                logger.LogWarning("{Consumer}: event {EventId} ({Type}) attempt {Attempt} failed: {Error}; retrying in {Delay:F0} ms",
                    registration.Name, envelope.Id, envelope.Type, attempt, e.Message, jittered.TotalMilliseconds);
                await Task.Delay(jittered, ct);
            }
        }
    }

    /// <summary>Records the event in the inbox and runs the handler; false if it was handled before.</summary>
    private async Task<bool> HandleInTransactionAsync(NpgsqlTransaction tx, ConsumeResult<string, byte[]> result,
        EventEnvelope envelope, CancellationToken ct)
    {
        if ((await RecordInInboxAsync(tx, [(result, envelope)], ct)).Count == 0)
        {
            MessagingTelemetry.Duplicates.Add(1, new KeyValuePair<string, object?>("consumer", registration.Name));
            return false;
        }
        var writes = new DeferredWrites();
        await RunHandlerAsync(tx, result, envelope, writes, ct);
        await SendDeferredAsync(tx, writes, events: null, ct);
        return true;
    }

    /// <summary>Sends the handlers' deferred statements, then the deferred outbox rows, in one round trip.</summary>
    private static async Task SendDeferredAsync(NpgsqlTransaction tx, DeferredWrites writes, Outbox.DeferredEvents? events,
        CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        writes.MoveTo(batch);
        events?.AppendTo(batch);
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Inserts inbox rows; returns the ids that were new (not handled before).</summary>
    private Task<HashSet<string>> RecordInInboxAsync(NpgsqlTransaction tx,
        IReadOnlyList<(ConsumeResult<string, byte[]> Result, EventEnvelope Envelope)> events, CancellationToken ct) =>
        _inbox.RecordAsync(tx, registration.Name,
            events.Select(e => new Inbox.Entry(e.Envelope.Id, e.Result.Topic, e.Result.Partition.Value, e.Result.Offset.Value)).ToList(), ct);

    private async Task RunHandlerAsync(NpgsqlTransaction tx, ConsumeResult<string, byte[]> result, EventEnvelope envelope,
        DeferredWrites writes, CancellationToken ct)
    {
        var traceParent = HeaderString(result, KafkaHeaderNames.TraceParent) ?? envelope.TraceParent;
        using var activity = MessagingTelemetry.StartConsume($"{registration.Name} {envelope.Type}", traceParent);
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.destination.name", result.Topic);
        activity.SetTag("messaging.message.id", envelope.Id);
        activity.SetTag("slipway.run_id", envelope.RunId);
        using var scope = services.CreateScope();
        var handler = (IIntegrationEventHandler)scope.ServiceProvider.GetRequiredService(registration.HandlerType);
        await handler.HandleAsync(envelope, new MessageContext(tx, outbox, result.Topic, result.Partition.Value, result.Offset.Value,
            result.Message.Key) { Writes = writes }, ct);
    }

    /// <summary>
    /// Postgres unreachable or refusing every session (as opposed to a handler that fails on this event). An error the
    /// server raised for the statement (a statement timeout, out of memory, a deadlock) is the event's: it is retried a
    /// bounded number of times and then dead-lettered, instead of blocking the partition for ever.
    /// </summary>
    internal static bool IsInfrastructureOutage(Exception e) => e switch
    {
        PostgresException pg => IsServerUnavailable(pg.SqlState),
        NpgsqlException { IsTransient: true } or System.Net.Sockets.SocketException => true,
        _ => e.InnerException is { } inner && IsInfrastructureOutage(inner),
    };

    /// <summary>Connection errors (08), shutdown or start-up (57P01-57P03), no connection slot (53300), disk full (53100), system I/O (58).</summary>
    private static bool IsServerUnavailable(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("58", StringComparison.Ordinal)
        || sqlState is "57P01" or "57P02" or "57P03" or "53300" or "53100";

    private static PostgresException? FindPostgresError(Exception? e) =>
        e is null ? null : e as PostgresException ?? FindPostgresError(e.InnerException);

    /// <summary>Whether Postgres answers a trivial query on a fresh connection.</summary>
    private async Task<bool> DatabaseAnswersAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var ping = new NpgsqlCommand("SELECT 1", conn);
            await ping.ExecuteScalarAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }

    private EventEnvelope? TryParse(ConsumeResult<string, byte[]> result, out string? error)
    {
        error = null;
        var value = result.Message.Value;
        if (value is null || value.Length == 0) { error = "empty message"; return null; }
        if (value.Length > _options.MaxMessageBytes) { error = $"message of {value.Length} bytes exceeds Kafka:MaxMessageBytes ({_options.MaxMessageBytes})"; return null; }
        try { return EventEnvelope.Parse(value); }
        catch (InvalidEventException e) { error = $"invalid event: {e.Message}"; return null; }
    }

    private async Task DeadLetterAsync(ConsumeResult<string, byte[]> result, string reason, int attempts, CancellationToken ct)
    {
        logger.LogError("{Consumer}: dead-lettering {Topic}[{Partition}]@{Offset} after {Attempts} attempts: {Reason}",
            registration.Name, result.Topic, result.Partition.Value, result.Offset.Value, attempts, reason);
        await deadLetters.PublishAsync(result, registration.Name, reason, attempts, ct);
    }

    private static string? HeaderString(ConsumeResult<string, byte[]> result, string key) =>
        result.Message.Headers is { } headers && headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
