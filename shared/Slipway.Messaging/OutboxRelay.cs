using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Messaging;

/// <summary>
/// Produces the outbox's events to Kafka, oldest first, and deletes them once Kafka has
/// acknowledged them. One instance of a service relays at a time (a session advisory lock),
/// which keeps each key's events in order; if it dies, the lock frees and another takes over.
/// A crash between produce and delete re-produces the same event ids, which consumers'
/// inboxes drop: emitted exactly once in effect.
/// </summary>
public sealed class OutboxRelay(
    NpgsqlDataSource dataSource,
    SchemaName schema,
    Outbox outbox,
    KafkaProducerFactory producers,
    DeadLetterPublisher deadLetters,
    Microsoft.Extensions.Options.IOptions<KafkaOptions> options,
    Microsoft.Extensions.Options.IOptions<OutboxFaultInjectionOptions> faultInjection,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    // Constant header values, encoded once.
    private static readonly byte[] CloudEventsContentType = System.Text.Encoding.UTF8.GetBytes(KafkaHeaderNames.CloudEventsContentType);

    // Rows read, produced and deleted at a time (Kafka:RelayBatchSize).
    private int BatchSize => options.Value.RelayBatchSize;
    private long _depth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        MessagingTelemetry.ObserveOutboxDepth(schema.Value, () => Interlocked.Read(ref _depth));
        if (faultInjection.Value.HoldAfterProduceFile is { } hold)
            logger.LogWarning("outbox relay: fault injection on (Messaging:FaultInjection:HoldAfterProduceFile={File}): a testing aid", hold);
        if (!options.Value.RelayOutbox)
        {
            logger.LogWarning("outbox relay disabled (Kafka:RelayOutbox=false): events stay in the outbox");
            return;
        }
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RelayWhileLeaderAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "outbox relay interrupted; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    private async Task RelayWhileLeaderAsync(CancellationToken ct)
    {
        await using var listen = await dataSource.OpenConnectionAsync(ct);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('slipway.outbox.' || $1))", listen))
        {
            tryLock.Parameters.Add(new NpgsqlParameter { Value = schema.Value });
            if (!(bool)(await tryLock.ExecuteScalarAsync(ct))!)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), ct); // another instance relays
                return;
            }
        }
        await using (var listenCmd = new NpgsqlCommand($"LISTEN {outbox.Channel}", listen))
            await listenCmd.ExecuteNonQueryAsync(ct);

        while (!ct.IsCancellationRequested)
        {
            var sent = await RelayBatchAsync(ct);
            if (sent < BatchSize)
                await listen.WaitAsync(TimeSpan.FromMilliseconds(500), ct); // a notify or a poll
        }
    }

    /// <summary>Produces one batch and deletes it; returns how many were sent.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = new List<(long Id, string Topic, string Key, string EventId, string Type, byte[] Payload, string? TraceParent)>();
        await using (var select = new NpgsqlCommand(
            $"SELECT id, topic, key, event_id, event_type, payload, traceparent FROM {schema.Value}.outbox ORDER BY id LIMIT {BatchSize}", conn))
        await using (var reader = await select.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    (byte[])reader[5], reader.IsDBNull(6) ? null : reader.GetString(6)));

        if (rows.Count == 0)
        {
            Interlocked.Exchange(ref _depth, 0);
            return 0;
        }

        var errors = await ProduceAllAsync(producers.Producer, rows.Select(r =>
        {
            var headers = new Headers
            {
                { KafkaHeaderNames.ContentType, CloudEventsContentType },
                { KafkaHeaderNames.EventId, System.Text.Encoding.UTF8.GetBytes(r.EventId) },
                { KafkaHeaderNames.EventType, System.Text.Encoding.UTF8.GetBytes(r.Type) },
            };
            if (r.TraceParent is not null) headers.Add(KafkaHeaderNames.TraceParent, System.Text.Encoding.UTF8.GetBytes(r.TraceParent));
            return (r.Topic, new Message<string, byte[]> { Key = r.Key, Value = r.Payload, Headers = headers });
        }).ToList(), ct);

        // An event Kafka refuses for good (too large, invalid) would block every later one: it goes to the dead-letter
        // topic with the reason and leaves the outbox with the rest. Any other failure (Kafka unreachable) re-produces the
        // whole batch later, in order; consumers' inboxes drop the copies.
        if (errors.FirstOrDefault(e => e is not null && !IsPermanentRefusal(e.Code)) is { } transient)
            throw new KafkaException(transient);
        for (var i = 0; i < rows.Count; i++)
        {
            if (errors[i] is not { } refused) continue;
            var r = rows[i];
            var reason = $"Kafka refused the event for {r.Topic}: {refused.Code} ({refused.Reason}); {r.Payload.Length} bytes";
            logger.LogError("outbox event {EventId} ({Type}) refused by Kafka: {Reason}; dead-lettering it", r.EventId, r.Type, reason);
            await deadLetters.PublishRefusedAsync(r.Topic, r.Key, r.EventId, r.Type, r.Payload, reason, ct);
        }
        MessagingTelemetry.Produced.Add(errors.Count(e => e is null));
        // The moment between Kafka's acknowledgement and the delete (a crash here re-produces the batch); the fault
        // campaign and OutboxCrashWindowTests hold the batch here (testing aid, off unless configured) to kill in it.
        logger.LogDebug("outbox: produced {Count} event(s) to Kafka, deleting them from the outbox", rows.Count);
        await HoldForFaultInjectionAsync(rows.Count, ct);

        // The delete and, after a full batch, the count of what is still waiting: one round trip (a partial batch
        // emptied the outbox).
        await using var delete = new NpgsqlBatch(conn);
        var deleteRows = new NpgsqlBatchCommand($"DELETE FROM {schema.Value}.outbox WHERE id = ANY($1)");
        deleteRows.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() });
        delete.BatchCommands.Add(deleteRows);
        if (rows.Count >= BatchSize) delete.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT count(*) FROM {schema.Value}.outbox"));
        var waiting = await delete.ExecuteScalarAsync(CancellationToken.None);
        Interlocked.Exchange(ref _depth, rows.Count >= BatchSize ? Convert.ToInt64(waiting, System.Globalization.CultureInfo.InvariantCulture) : 0);
        return rows.Count;
    }

    /// <summary>
    /// The testing aid of <see cref="OutboxFaultInjectionOptions"/>: while its file exists, the acknowledged batch waits
    /// here, so a test's kill lands between the acknowledgement and the delete for certain. Off unless configured.
    /// </summary>
    private async Task HoldForFaultInjectionAsync(int count, CancellationToken ct)
    {
        if (faultInjection.Value.HoldAfterProduceFile is not { } file || !File.Exists(file)) return;
        logger.LogWarning("outbox: fault injection: holding {Count} acknowledged event(s) before the delete while {File} exists", count, file);
        var deadline = DateTime.UtcNow + OutboxFaultInjectionOptions.MaxHold;
        while (File.Exists(file) && DateTime.UtcNow < deadline) await Task.Delay(50, ct);
    }

    /// <summary>
    /// Hands every message to the producer at once (in order, so each partition keeps it) and waits for all the
    /// acknowledgements together; returns per message null when Kafka acknowledged it, else the error. One delivery
    /// callback per message instead of a task each.
    /// </summary>
    private static async Task<Error?[]> ProduceAllAsync(IProducer<string, byte[]> producer,
        IReadOnlyList<(string Topic, Message<string, byte[]> Message)> messages, CancellationToken ct)
    {
        var errors = new Error?[messages.Count];
        if (messages.Count == 0) return errors;
        var pending = messages.Count;
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Done(int i, Error? error)
        {
            errors[i] = error;
            if (Interlocked.Decrement(ref pending) == 0) allDone.TrySetResult();
        }
        for (var i = 0; i < messages.Count; i++)
        {
            var index = i;
            while (true)
            {
                try
                {
                    producer.Produce(messages[i].Topic, messages[i].Message, report => Done(index, report.Error.IsError ? report.Error : null));
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The client's queue is full: wait for acknowledgements to make room (the wait is bounded by ct).
                    await Task.Delay(1, ct);
                }
                catch (ProduceException<string, byte[]> e)
                {
                    Done(index, e.Error);
                    break;
                }
            }
        }
        await allDone.Task.WaitAsync(ct);
        return errors;
    }

    /// <summary>Errors no retry can fix: the message itself is unacceptable to Kafka.</summary>
    internal static bool IsPermanentRefusal(ErrorCode code) => code is ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge
        or ErrorCode.InvalidMsgSize or ErrorCode.InvalidMsg or ErrorCode.InvalidRecord or ErrorCode.PolicyViolation
        or ErrorCode.TopicException or ErrorCode.Local_InvalidArg;
}
