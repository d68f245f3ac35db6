using Npgsql;
using Slipway.Storage;

namespace Slipway.Messaging;

/// <summary>
/// Remembers which events each consumer has handled, in the handler's transaction, so a re-delivered event is
/// dropped (at-least-once delivery, exactly-once effect). The receiving side of <see cref="Outbox"/>.
/// </summary>
public sealed class Inbox(SchemaName schema)
{
    private readonly string _insert =
        $"""
        INSERT INTO {schema.Value}.inbox (consumer, event_id, topic, partition, "offset")
        SELECT $1, e.id, e.topic, e.part, e.off FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS e(id, topic, part, off)
        ON CONFLICT DO NOTHING
        RETURNING event_id
        """;

    /// <summary>Where an event was read from.</summary>
    public readonly record struct Entry(string EventId, string Topic, int Partition, long Offset);

    /// <summary>Records the events for <paramref name="consumer"/> in one statement; returns the ids that were new (not handled before).</summary>
    public async Task<HashSet<string>> RecordAsync(NpgsqlTransaction tx, string consumer, IReadOnlyList<Entry> events, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(_insert, tx.Connection, tx);
        command.Parameters.Add(new NpgsqlParameter { Value = consumer });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Topic).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Partition).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Offset).ToArray() });
        var fresh = new HashSet<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) fresh.Add(reader.GetString(0));
        return fresh;
    }
}
