using System.Diagnostics;
using Npgsql;
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

        // Insert and notify in one round trip (Postgres folds repeated notifications of a transaction into one).
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var insert = new NpgsqlBatchCommand(_insert);
        insert.Parameters.Add(new NpgsqlParameter { Value = topic });
        insert.Parameters.Add(new NpgsqlParameter { Value = key });
        insert.Parameters.Add(new NpgsqlParameter { Value = envelope.Id });
        insert.Parameters.Add(new NpgsqlParameter { Value = envelope.Type });
        insert.Parameters.Add(new NpgsqlParameter { Value = envelope.ToUtf8Json() });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)envelope.TraceParent ?? DBNull.Value });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{Channel}', '')"));
        await batch.ExecuteNonQueryAsync(ct);
    }
}
