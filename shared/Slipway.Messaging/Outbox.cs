using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Messaging;

/// <summary>
/// Records events to emit in the caller's transaction, so they are emitted if and only if the
/// effects that caused them commit. <see cref="OutboxRelay"/> produces them to Kafka.
/// </summary>
public sealed class Outbox(SchemaName schema, TopicNames topics)
{
    private readonly string _insert =
        $"INSERT INTO {schema.Value}.outbox (topic, key, event_id, event_type, payload, traceparent) VALUES ($1, $2, $3, $4, $5, $6)";

    // Rows keep the order they were added in: ids are assigned as the ordered rows are inserted.
    private readonly string _insertMany =
        $"""
        INSERT INTO {schema.Value}.outbox (topic, key, event_id, event_type, payload, traceparent)
        SELECT e.topic, e.key, e.id, e.type, e.payload, e.trace
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[]) WITH ORDINALITY AS e(topic, key, id, type, payload, trace, n)
        ORDER BY e.n
        """;

    // Transactions whose events are collected and inserted together at the end (see Defer).
    private readonly ConcurrentDictionary<NpgsqlTransaction, List<Row>> _deferred = new(ReferenceEqualityComparer.Instance);

    private readonly record struct Row(string Topic, string Key, string EventId, string Type, byte[] Payload, string? TraceParent);

    /// <summary>The channel the relay listens on, notified at commit so it wakes at once.</summary>
    public string Channel { get; } = $"{schema.Value}_outbox";

    public TopicNames Topics => topics;

    /// <summary>Adds a pipeline event, keyed by its run id so one run's events stay in order.</summary>
    public Task AddPipelineEventAsync(NpgsqlTransaction tx, EventEnvelope envelope, CancellationToken ct = default)
        => AddAsync(tx, topics.PipelineEvents,
            envelope.RunId ?? throw new ArgumentException($"pipeline event {envelope.Type} has no run id"), envelope, ct);

    /// <summary>Adds an event for <paramref name="topic"/> (a full topic name) with the given key.</summary>
    public async Task AddAsync(NpgsqlTransaction tx, string topic, string key, EventEnvelope envelope, CancellationToken ct = default)
    {
        // The event carries the trace of the work that caused it.
        if (envelope.TraceParent is null && Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
            envelope = envelope with { TraceParent = current.Id };
        var row = new Row(topic, key, envelope.Id, envelope.Type, envelope.ToUtf8Json(), envelope.TraceParent);
        if (_deferred.TryGetValue(tx, out var pending))
        {
            lock (pending) pending.Add(row);
            return;
        }

        // Insert and notify in one round trip (Postgres folds repeated notifications of a transaction into one).
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var insert = new NpgsqlBatchCommand(_insert);
        insert.Parameters.Add(new NpgsqlParameter { Value = row.Topic });
        insert.Parameters.Add(new NpgsqlParameter { Value = row.Key });
        insert.Parameters.Add(new NpgsqlParameter { Value = row.EventId });
        insert.Parameters.Add(new NpgsqlParameter { Value = row.Type });
        insert.Parameters.Add(new NpgsqlParameter { Value = row.Payload });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)row.TraceParent ?? DBNull.Value });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(Notify());
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Adds <paramref name="events"/> with one insert (rows in the given order) and one notify: for a writer that
    /// collects a batch of its own events in one transaction (the gateway's waiting stream lines).
    /// </summary>
    public Task AddManyAsync(NpgsqlTransaction tx, IReadOnlyList<(string Topic, string Key, EventEnvelope Envelope)> events, CancellationToken ct = default) =>
        InsertManyAsync(tx, [.. events.Select(e => new Row(e.Topic, e.Key, e.Envelope.Id, e.Envelope.Type, e.Envelope.ToUtf8Json(), e.Envelope.TraceParent))], ct);

    /// <summary>
    /// Adds the insert of <paramref name="events"/> (one statement, rows in the given order) and one notify to
    /// <paramref name="batch"/>, which the caller sends in its transaction with its own statements: one round trip for a
    /// writer's effects and its events (the gateway's batch of stream lines).
    /// </summary>
    public void AppendMany(NpgsqlBatch batch, IReadOnlyList<(string Topic, string Key, EventEnvelope Envelope)> events)
    {
        if (events.Count == 0) return;
        AppendInsertMany(batch, [.. events.Select(e => new Row(e.Topic, e.Key, e.Envelope.Id, e.Envelope.Type, e.Envelope.ToUtf8Json(), e.Envelope.TraceParent))]);
    }

    private async Task InsertManyAsync(NpgsqlTransaction tx, Row[] rows, CancellationToken ct)
    {
        if (rows.Length == 0) return;
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        AppendInsertMany(batch, rows);
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Adds the insert of <paramref name="rows"/> (one statement, in order) and one notify to <paramref name="batch"/>.</summary>
    private void AppendInsertMany(NpgsqlBatch batch, Row[] rows)
    {
        var insert = new NpgsqlBatchCommand(_insertMany);
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Topic).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.EventId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Type).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.TraceParent).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(Notify());
    }

    /// <summary>
    /// From now until the returned scope is disposed, events added in <paramref name="tx"/> are collected instead of
    /// inserted one by one; <see cref="DeferredEvents.AppendTo"/> adds them all as one statement to a batch sent in the
    /// transaction, so they commit (or roll back) with the effects exactly as before. Used by the consumer host for a
    /// batch's transaction: one round trip for the batch's events instead of one per event.
    /// </summary>
    internal DeferredEvents Defer(NpgsqlTransaction tx)
    {
        if (!_deferred.TryAdd(tx, [])) throw new InvalidOperationException("events of this transaction are already deferred");
        return new DeferredEvents(this, tx);
    }

    /// <summary>The events collected for one transaction; disposing stops collecting (whatever was not flushed is dropped with the transaction).</summary>
    internal sealed class DeferredEvents(Outbox outbox, NpgsqlTransaction tx) : IDisposable
    {
        /// <summary>Adds the collected events' insert and notify to <paramref name="batch"/> (nothing if none), to send with other statements.</summary>
        public int AppendTo(NpgsqlBatch batch)
        {
            var rows = Take();
            if (rows.Length > 0) outbox.AppendInsertMany(batch, rows);
            return rows.Length;
        }

        private Row[] Take()
        {
            var pending = outbox._deferred[tx];
            lock (pending)
            {
                Row[] rows = [.. pending];
                pending.Clear();
                return rows;
            }
        }

        public void Dispose() => outbox._deferred.TryRemove(tx, out _);
    }

    private NpgsqlBatchCommand Notify() => new($"SELECT pg_notify('{Channel}', '')");
}
