using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.GerritGateway;

/// <summary>
/// Recognises one Gerrit message arriving from two sources with different seconds. A comment's id derives from its
/// second (the live stream gives no message id), and the REST API may date the message a second or two apart from
/// the live event's <c>eventCreatedOn</c>: a catch-up after a restart would publish it again and start a second
/// recheck run. Every published <c>comment-added</c> is recorded (change, patch set, author, text hash, time, source)
/// in the transaction of its publish; a comment from another source with another id is the same message when a
/// record within <c>Gateway:CommentMatchSeconds</c> has not yet been delivered by that source. Each record pairs with
/// one message per source, so a second identical comment (a "recheck" said twice) is still published. All calls run
/// inside the writer's transaction, after <see cref="LockAsync"/>, so two instances cannot both publish one message.
/// </summary>
public sealed class PublishedComments(SchemaName schema, TimeSpan tolerance)
{
    /// <summary>What identifies a message apart from its time; null for events that are not comments on a change.</summary>
    public sealed record Key(string Project, int Change, int? PatchSet, string Author, string TextHash, DateTimeOffset At, string Source);

    public static Key? Of(GerritEvent e) =>
        e.Type == "comment-added" && e.ChangeNumber is { } change
            ? new Key(e.Project ?? "", change, e.PatchSetNumber, e.Author?.Username ?? e.Author?.Email ?? e.Author?.Name ?? "",
                Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(e.Comment ?? ""))), e.EventCreatedOn, e.Source.ToString())
            : null;

    private string PairExactSql =>
        $"UPDATE {schema.Value}.published_comments SET sources = array_append(sources, $2) WHERE event_id = $1 AND NOT ($2 = ANY(sources))";

    private string PairNearbySql =>
        $"""
        UPDATE {schema.Value}.published_comments SET sources = array_append(sources, $6)
        WHERE event_id = (
            SELECT event_id FROM {schema.Value}.published_comments
            WHERE project = $1 AND change_number = $2 AND patch_set IS NOT DISTINCT FROM $3 AND author = $4 AND text_hash = $5
              AND NOT ($6 = ANY(sources)) AND created_on BETWEEN $7 - $8 AND $7 + $8
            ORDER BY abs(extract(epoch FROM created_on - $7)), created_on
            LIMIT 1)
        RETURNING event_id
        """;

    private string RecordSql =>
        $"""
        INSERT INTO {schema.Value}.published_comments (project, change_number, patch_set, author, text_hash, event_id, created_on, sources)
        VALUES ($1, $2, $3, $4, $5, $6, $7, ARRAY[$8]) ON CONFLICT (event_id) DO NOTHING
        """;

    /// <summary>Serializes the comment writes of one change until the transaction ends (across instances).</summary>
    public async Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Key key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext($1))", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = LockName(key) });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The event's own id was published before: its record now counts this source as delivered.</summary>
    public async Task PairExactAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string eventId, Key key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(PairExactSql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Pairs the message with the nearest record of the same message within the tolerance not yet delivered by this
    /// source; returns that record's event id, or null when the message is new.
    /// </summary>
    public async Task<string?> PairNearbyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Key key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(PairNearbySql, conn, tx);
        AddMessage(cmd, key);
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.At.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter { Value = tolerance });
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Records a published comment (in its publish's transaction).</summary>
    public async Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string eventId, Key key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(RecordSql, conn, tx);
        AddMessage(cmd, key);
        cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.At.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // The same statements as one command each of a batch (the gateway's batch of stream lines: one round trip for all).

    /// <summary>The advisory lock's name of the change a comment is on (a batch takes its changes' locks in this name's order).</summary>
    public string LockName(Key key) => $"slipway.comments.{schema.Value}.{key.Project}~{key.Change}";

    public static NpgsqlBatchCommand LockCommand(string lockName)
    {
        var cmd = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtext($1))");
        cmd.Parameters.Add(new NpgsqlParameter { Value = lockName });
        return cmd;
    }

    public NpgsqlBatchCommand PairExactCommand(string eventId, Key key)
    {
        var cmd = new NpgsqlBatchCommand(PairExactSql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        return cmd;
    }

    /// <summary>Returns one row (the paired record's event id) or none, as <see cref="PairNearbyAsync"/>.</summary>
    public NpgsqlBatchCommand PairNearbyCommand(Key key)
    {
        var cmd = new NpgsqlBatchCommand(PairNearbySql);
        AddMessage(cmd.Parameters, key);
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.At.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter { Value = tolerance });
        return cmd;
    }

    public NpgsqlBatchCommand RecordCommand(string eventId, Key key)
    {
        var cmd = new NpgsqlBatchCommand(RecordSql);
        AddMessage(cmd.Parameters, key);
        cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.At.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter { Value = key.Source });
        return cmd;
    }

    /// <summary>
    /// One row: whether any record could pair with any of <paramref name="keys"/> (same project, change, author and text
    /// within the tolerance, not yet delivered by the comment's source; the patch set is not compared, so this is a
    /// superset of what <see cref="PairNearbyCommand"/> finds). False, the usual case, spares a batch one pairing
    /// statement per comment: pairing only ever adds sources, so no record can become pairable later in the transaction.
    /// </summary>
    public NpgsqlBatchCommand AnyNearbyCommand(IReadOnlyList<Key> keys)
    {
        var cmd = new NpgsqlBatchCommand(
            $"""
            SELECT EXISTS (
                SELECT 1 FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) AS c(project, change_number, author, text_hash, at, source)
                JOIN {schema.Value}.published_comments p ON p.project = c.project AND p.change_number = c.change_number
                    AND p.author = c.author AND p.text_hash = c.text_hash AND p.created_on BETWEEN c.at - $7 AND c.at + $7
                WHERE NOT (c.source = ANY(p.sources)))
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.Project).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.Change).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.Author).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.TextHash).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.At.UtcDateTime).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.Source).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = tolerance });
        return cmd;
    }

    /// <summary>Records many published comments with one statement (as <see cref="RecordCommand"/> each).</summary>
    public NpgsqlBatchCommand RecordManyCommand(IReadOnlyList<(string EventId, Key Key)> comments)
    {
        var cmd = new NpgsqlBatchCommand(
            $"""
            INSERT INTO {schema.Value}.published_comments (project, change_number, patch_set, author, text_hash, event_id, created_on, sources)
            SELECT c.project, c.change_number, c.patch_set, c.author, c.text_hash, c.event_id, c.created_on, ARRAY[c.source]
            FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
                AS c(project, change_number, patch_set, author, text_hash, event_id, created_on, source)
            ON CONFLICT (event_id) DO NOTHING
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.Project).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.Change).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.PatchSet).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.Author).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.TextHash).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.EventId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.At.UtcDateTime).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = comments.Select(c => c.Key.Source).ToArray() });
        return cmd;
    }

    private static void AddMessage(NpgsqlCommand cmd, Key key) => AddMessage(cmd.Parameters, key);

    private static void AddMessage(NpgsqlParameterCollection parameters, Key key)
    {
        parameters.Add(new NpgsqlParameter { Value = key.Project });
        parameters.Add(new NpgsqlParameter { Value = key.Change });
        parameters.Add(new NpgsqlParameter { Value = (object?)key.PatchSet ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        parameters.Add(new NpgsqlParameter { Value = key.Author });
        parameters.Add(new NpgsqlParameter { Value = key.TextHash });
    }
}
