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
    Microsoft.Extensions.Options.IOptions<KafkaOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private long _depth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        MessagingTelemetry.ObserveOutboxDepth(schema.Value, () => Interlocked.Read(ref _depth));
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
            return producer.ProduceAsync(r.Topic, new Message<string, byte[]> { Key = r.Key, Value = r.Payload, Headers = headers }, ct);
        }).ToList();
        await Task.WhenAll(deliveries);
        MessagingTelemetry.Produced.Add(rows.Count);

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
}
