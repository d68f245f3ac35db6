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
    private const int BatchSize = 500;
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

        var producer = producers.Producer;
        var deliveries = rows.Select(r =>
        {
            var headers = new Headers
            {
                { KafkaHeaderNames.ContentType, System.Text.Encoding.UTF8.GetBytes(KafkaHeaderNames.CloudEventsContentType) },
                { KafkaHeaderNames.EventId, System.Text.Encoding.UTF8.GetBytes(r.EventId) },
                { KafkaHeaderNames.EventType, System.Text.Encoding.UTF8.GetBytes(r.Type) },
            };
            if (r.TraceParent is not null) headers.Add(KafkaHeaderNames.TraceParent, System.Text.Encoding.UTF8.GetBytes(r.TraceParent));
            return ProduceAsync(producer, r.Topic, new Message<string, byte[]> { Key = r.Key, Value = r.Payload, Headers = headers }, ct);
        }).ToList();
        var errors = await Task.WhenAll(deliveries);

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

        await using var delete = new NpgsqlCommand($"DELETE FROM {schema.Value}.outbox WHERE id = ANY($1)", conn);
        delete.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() });
        await delete.ExecuteNonQueryAsync(CancellationToken.None);
        // A partial batch emptied the outbox; after a full one, count what is still waiting.
        if (rows.Count < BatchSize) Interlocked.Exchange(ref _depth, 0);
        else
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {schema.Value}.outbox", conn);
            Interlocked.Exchange(ref _depth, (long)(await count.ExecuteScalarAsync(CancellationToken.None))!);
        }
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

    /// <summary>Produces one message; returns null when Kafka acknowledged it, else the error.</summary>
    private static async Task<Error?> ProduceAsync(IProducer<string, byte[]> producer, string topic, Message<string, byte[]> message,
        CancellationToken ct)
    {
        try
        {
            await producer.ProduceAsync(topic, message, ct);
            return null;
        }
        catch (ProduceException<string, byte[]> e) { return e.Error; }
    }

    /// <summary>Errors no retry can fix: the message itself is unacceptable to Kafka.</summary>
    internal static bool IsPermanentRefusal(ErrorCode code) => code is ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge
        or ErrorCode.InvalidMsgSize or ErrorCode.InvalidMsg or ErrorCode.InvalidRecord or ErrorCode.PolicyViolation
        or ErrorCode.TopicException or ErrorCode.Local_InvalidArg;
}
