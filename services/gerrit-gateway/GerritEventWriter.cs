using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Messaging;
using Slipway.Storage;

namespace Slipway.GerritGateway;

/// <summary>
/// Publishes a Gerrit event exactly once in effect: its derived id is recorded in
/// <c>seen_events</c> and the event put in the outbox in one transaction; an id seen before
/// (from any source, before or after a restart) is dropped. A gap that could not be recorded
/// (the database was away when it began) is remembered here and recorded in the transaction of
/// the server's next write, before the mark moves: the mark never passes an event that was lost.
/// </summary>
public sealed class GerritEventWriter(NpgsqlDataSource dataSource, SchemaName schema, Outbox outbox, IOptions<GatewayOptions> options)
{
    private readonly PublishedComments _comments = new(schema, TimeSpan.FromSeconds(options.Value.CommentMatchSeconds));

    public const string Source = "/slipway/gerrit-gateway";

    // server → version of the unrecorded gap; a write removes only the version it recorded (a newer one stays).
    private readonly ConcurrentDictionary<string, long> _unrecordedGaps = new(StringComparer.Ordinal);
    private long _gapVersion;

    /// <summary>True while a gap of <paramref name="server"/> waits to be recorded (the database was away).</summary>
    public bool HasUnrecordedGap(string server) => _unrecordedGaps.ContainsKey(server);

    /// <summary>
    /// An event of <paramref name="server"/> could not be written (or a gap not recorded): its gap
    /// starts at the mark as it is now and is recorded with the next write that succeeds.
    /// </summary>
    public long RememberGap(string server) => _unrecordedGaps[server] = Interlocked.Increment(ref _gapVersion);

    private void Recorded(string server, long version) => _unrecordedGaps.TryRemove(new KeyValuePair<string, long>(server, version));

    /// <summary>Returns false when the event was a duplicate.</summary>
    public async Task<bool> WriteAsync(GerritEvent gerritEvent, string server, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        // The root span of one change's trace: the outbox puts it in the event's traceparent, every service after follows it.
        // A new trace whatever span is current (a catch-up round spans many events, each its own change's trace). An
        // async method's change of Activity.Current does not reach its caller.
        Activity.Current = null;
        using var span = GatewayTelemetry.Source.StartActivity("gerrit ingest " + gerritEvent.Type, ActivityKind.Producer)
            ?? new Activity("gerrit ingest " + gerritEvent.Type).SetIdFormat(ActivityIdFormat.W3C).Start();
        span.SetTag("gerrit.event.type", gerritEvent.Type);
        span.SetTag("gerrit.project", gerritEvent.Project);
        var id = GerritEventIdentity.IdOf(gerritEvent);
        var key = PartitionKeys.For(gerritEvent);
        GatewayTelemetry.EventsIn.Add(1, new KeyValuePair<string, object?>("type", gerritEvent.Type));

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var recordsGap = _unrecordedGaps.TryGetValue(server, out var gapVersion);
        // A comment's id depends on its second, which its sources may disagree on: matched by content too (PublishedComments).
        var comment = PublishedComments.Of(gerritEvent);
        if (comment is not null) await _comments.LockAsync(conn, tx, comment, ct);
        if (recordsGap)
            await using (var gap = new NpgsqlCommand(
                $"UPDATE {schema.Value}.stream_state SET catchup_from = COALESCE(catchup_from, last_event_at) WHERE server = $1", conn, tx))
            {
                gap.Parameters.Add(new NpgsqlParameter { Value = server });
                await gap.ExecuteNonQueryAsync(ct);
            }
        await using (var seen = new NpgsqlCommand(
            $"INSERT INTO {schema.Value}.seen_events (event_id, type, source, created_on) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", conn, tx))
        {
            seen.Parameters.Add(new NpgsqlParameter { Value = id });
            seen.Parameters.Add(new NpgsqlParameter { Value = gerritEvent.Type });
            seen.Parameters.Add(new NpgsqlParameter { Value = gerritEvent.Source.ToString() });
            seen.Parameters.Add(new NpgsqlParameter { Value = gerritEvent.EventCreatedOn });
            var duplicate = await seen.ExecuteNonQueryAsync(ct) == 0;
            if (duplicate && comment is not null) await _comments.PairExactAsync(conn, tx, id, comment, ct);
            // Recorded as seen: this source's copy is dropped by id from now on.
            else if (comment is not null && await _comments.PairNearbyAsync(conn, tx, comment, ct) is not null) duplicate = true;
            if (duplicate)
            {
                GatewayTelemetry.Duplicates.Add(1, new KeyValuePair<string, object?>("type", gerritEvent.Type));
                if (recordsGap || comment is not null) // the gap, the pairing and a nearby copy's own id are kept
                {
                    await tx.CommitAsync(ct);
                    if (recordsGap) Recorded(server, gapVersion);
                }
                return false;
            }
        }
        var envelope = EventEnvelope.Create(gerritEvent, Source, subject: key, id: id, time: gerritEvent.EventCreatedOn);
        await outbox.AddAsync(tx, outbox.Topics.GerritEvents, key, envelope, ct);
        // dropped-output marks a gap: it must not move the mark past the events Gerrit dropped.
        if (gerritEvent.Type != "dropped-output")
        await using (var state = new NpgsqlCommand(
            $"""
            INSERT INTO {schema.Value}.stream_state (server, last_event_at) VALUES ($1, $2)
            ON CONFLICT (server) DO UPDATE SET last_event_at = GREATEST(stream_state.last_event_at, EXCLUDED.last_event_at)
            """, conn, tx))
        {
            state.Parameters.Add(new NpgsqlParameter { Value = server });
            state.Parameters.Add(new NpgsqlParameter { Value = gerritEvent.EventCreatedOn });
            await state.ExecuteNonQueryAsync(ct);
        }
        if (BranchTip(gerritEvent) is { } tip) await UpsertTipAsync(conn, tx, server, tip.Project, tip.RefName, tip.Revision, ct);
        if (comment is not null) await _comments.RecordAsync(conn, tx, id, comment, ct);
        await tx.CommitAsync(ct);
        if (recordsGap) Recorded(server, gapVersion);
        GatewayTelemetry.EventsOut.Add(1, new KeyValuePair<string, object?>("type", gerritEvent.Type));
        GatewayTelemetry.PublishLatency.Record(clock.Elapsed.TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// Writes live stream events that were waiting together (in stream order, no <c>dropped-output</c> among them) in one
    /// transaction, with one statement each for their seen ids and their outbox rows and one commit: what
    /// <see cref="WriteAsync"/> does for each, in fewer round trips. All or none are stored, so the caller holds and
    /// retries the whole batch; the mark moves once, to the newest event published, in the same transaction. Returns,
    /// per event, false when it was a duplicate (seen before, earlier in the batch, or a comment paired with another
    /// source's copy).
    /// </summary>
    public async Task<bool[]> WriteBatchAsync(IReadOnlyList<GerritEvent> events, string server, CancellationToken ct)
    {
        if (events.Count == 1) return [await WriteAsync(events[0], server, ct)];
        if (events.Any(e => e.Type == "dropped-output")) throw new ArgumentException("dropped-output begins a gap: it is written on its own", nameof(events));
        var clock = Stopwatch.StartNew();
        var items = events.Select(e => (Event: e, Id: GerritEventIdentity.IdOf(e), Key: PartitionKeys.For(e), Comment: PublishedComments.Of(e))).ToArray();
        // Each event is the root span of its own change's trace, as in WriteAsync.
        var spans = new Activity[items.Length];
        try
        {
            for (var i = 0; i < items.Length; i++)
            {
                var e = items[i].Event;
                Activity.Current = null;
                spans[i] = GatewayTelemetry.Source.StartActivity("gerrit ingest " + e.Type, ActivityKind.Producer)
                    ?? new Activity("gerrit ingest " + e.Type).SetIdFormat(ActivityIdFormat.W3C).Start();
                spans[i].SetTag("gerrit.event.type", e.Type);
                spans[i].SetTag("gerrit.project", e.Project);
                GatewayTelemetry.EventsIn.Add(1, new KeyValuePair<string, object?>("type", e.Type));
            }
            Activity.Current = null;

            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var recordsGap = _unrecordedGaps.TryGetValue(server, out var gapVersion);
            // One round trip before the decisions: the gap, the comment locks of every change in the batch (always in one
            // order: no deadlock with another instance's batch), the seen ids (one insert: an id already there, or twice in
            // the batch, is a duplicate, its first copy counts) and whether any comment could pair with another source's
            // record. The statements run in this order on the server, so the inserts and the check run under the locks.
            var firstOfId = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Length; i++) firstOfId.TryAdd(items[i].Id, i);
            var candidates = firstOfId.Values.Order().ToArray();
            var comments = items.Where(x => x.Comment is not null).Select(x => x.Comment!).ToArray();
            var inserted = new HashSet<string>(StringComparer.Ordinal);
            var mayPairNearby = false;
            await using (var first = new NpgsqlBatch(conn, tx))
            {
                var before = 0; // result sets ahead of the seen insert's (every statement here returns one)
                if (recordsGap)
                {
                    var gap = new NpgsqlBatchCommand($"UPDATE {schema.Value}.stream_state SET catchup_from = COALESCE(catchup_from, last_event_at) WHERE server = $1 RETURNING server");
                    gap.Parameters.Add(new NpgsqlParameter { Value = server });
                    first.BatchCommands.Add(gap);
                    before++;
                }
                foreach (var name in comments.Select(_comments.LockName).Distinct().Order(StringComparer.Ordinal))
                {
                    first.BatchCommands.Add(PublishedComments.LockCommand(name));
                    before++;
                }
                var seen = new NpgsqlBatchCommand(
                    $"""
                    INSERT INTO {schema.Value}.seen_events (event_id, type, source, created_on)
                    SELECT e.id, e.type, e.source, e.created_on FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS e(id, type, source, created_on, n)
                    ORDER BY e.n
                    ON CONFLICT DO NOTHING RETURNING event_id
                    """);
                seen.Parameters.Add(new NpgsqlParameter { Value = candidates.Select(i => items[i].Id).ToArray() });
                seen.Parameters.Add(new NpgsqlParameter { Value = candidates.Select(i => items[i].Event.Type).ToArray() });
                seen.Parameters.Add(new NpgsqlParameter { Value = candidates.Select(i => items[i].Event.Source.ToString()).ToArray() });
                seen.Parameters.Add(new NpgsqlParameter { Value = candidates.Select(i => items[i].Event.EventCreatedOn).ToArray() });
                first.BatchCommands.Add(seen);
                if (comments.Length > 0) first.BatchCommands.Add(_comments.AnyNearbyCommand(comments));
                await using var reader = await first.ExecuteReaderAsync(ct);
                for (var r = 0; r < before; r++) await reader.NextResultAsync(ct);
                while (await reader.ReadAsync(ct)) inserted.Add(reader.GetString(0));
                if (comments.Length > 0 && await reader.NextResultAsync(ct) && await reader.ReadAsync(ct)) mayPairNearby = reader.GetBoolean(0);
            }
            var fresh = new bool[items.Length];
            for (var i = 0; i < items.Length; i++) fresh[i] = firstOfId[items[i].Id] == i && inserted.Contains(items[i].Id);

            // Comments, as in WriteAsync: a duplicate's record counts this source; a new id may still be another source's
            // copy of a published message (then it is not published, its id stays seen). All stream events have one source,
            // so no comment of the batch can pair with a record the batch itself adds.
            await using (var exact = new NpgsqlBatch(conn, tx))
            {
                for (var i = 0; i < items.Length; i++)
                    if (!fresh[i] && items[i].Comment is { } c) exact.BatchCommands.Add(_comments.PairExactCommand(items[i].Id, c));
                if (exact.BatchCommands.Count > 0) await exact.ExecuteNonQueryAsync(ct);
            }
            // Only when some record could pair (the check above): one pairing statement per new comment, in stream order.
            var nearbyOf = mayPairNearby ? Enumerable.Range(0, items.Length).Where(i => fresh[i] && items[i].Comment is not null).ToArray() : [];
            if (nearbyOf.Length > 0)
            {
                await using var nearby = new NpgsqlBatch(conn, tx);
                foreach (var i in nearbyOf) nearby.BatchCommands.Add(_comments.PairNearbyCommand(items[i].Comment!));
                await using var reader = await nearby.ExecuteReaderAsync(ct);
                foreach (var i in nearbyOf)
                {
                    if (await reader.ReadAsync(ct)) fresh[i] = false; // paired: another source's copy of a published message
                    await reader.NextResultAsync(ct);
                }
            }

            // The events, the mark, the branch tips and the comment records: one round trip.
            var published = Enumerable.Range(0, items.Length).Where(i => fresh[i]).ToArray();
            if (published.Length > 0)
            {
                await using var rest = new NpgsqlBatch(conn, tx);
                outbox.AppendMany(rest, [.. published.Select(i => (outbox.Topics.GerritEvents, items[i].Key,
                    EventEnvelope.Create(items[i].Event, Source, subject: items[i].Key, id: items[i].Id, time: items[i].Event.EventCreatedOn) with
                    { TraceParent = spans[i].Id }))]);
                // The mark moves once, to the newest event published, in the same transaction as the events.
                var mark = new NpgsqlBatchCommand(
                    $"""
                    INSERT INTO {schema.Value}.stream_state (server, last_event_at) VALUES ($1, $2)
                    ON CONFLICT (server) DO UPDATE SET last_event_at = GREATEST(stream_state.last_event_at, EXCLUDED.last_event_at)
                    """);
                mark.Parameters.Add(new NpgsqlParameter { Value = server });
                mark.Parameters.Add(new NpgsqlParameter { Value = published.Max(i => items[i].Event.EventCreatedOn) });
                rest.BatchCommands.Add(mark);
                foreach (var i in published)
                    if (BranchTip(items[i].Event) is { } tip) rest.BatchCommands.Add(TipCommand(server, tip.Project, tip.RefName, tip.Revision));
                var records = published.Where(i => items[i].Comment is not null).Select(i => (items[i].Id, items[i].Comment!)).ToArray();
                if (records.Length > 0) rest.BatchCommands.Add(_comments.RecordManyCommand(records));
                await rest.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            if (recordsGap) Recorded(server, gapVersion);
            for (var i = 0; i < items.Length; i++)
            {
                var type = new KeyValuePair<string, object?>("type", items[i].Event.Type);
                if (fresh[i])
                {
                    GatewayTelemetry.EventsOut.Add(1, type);
                    GatewayTelemetry.PublishLatency.Record(clock.Elapsed.TotalMilliseconds);
                }
                else GatewayTelemetry.Duplicates.Add(1, type);
            }
            return fresh;
        }
        finally
        {
            foreach (var span in spans) span?.Dispose();
            Activity.Current = null;
        }
    }

    /// <summary>The branch or tag and tip a published <c>ref-updated</c> of <c>refs/heads/*</c> or <c>refs/tags/*</c> leaves (a null revision: deleted).</summary>
    private static (string Project, string RefName, string? Revision)? BranchTip(GerritEvent e) =>
        e.Type == "ref-updated" && e.RefUpdate is { } r && !string.IsNullOrEmpty(e.Project)
        && (r.RefName.StartsWith("refs/heads/", StringComparison.Ordinal) || r.RefName.StartsWith("refs/tags/", StringComparison.Ordinal))
            ? (e.Project, r.RefName, r.NewRev.All(c => c == '0') ? null : r.NewRev)
            : null;

    private async Task UpsertTipAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string server, string project, string refName, string? revision, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx) { BatchCommands = { TipCommand(server, project, refName, revision) } };
        await batch.ExecuteNonQueryAsync(ct);
    }

    private NpgsqlBatchCommand TipCommand(string server, string project, string refName, string? revision)
    {
        var cmd = new NpgsqlBatchCommand(revision is null
            ? $"DELETE FROM {schema.Value}.branch_tips WHERE server = $1 AND project = $2 AND ref_name = $3"
            : $"""
              INSERT INTO {schema.Value}.branch_tips (server, project, ref_name, revision) VALUES ($1, $2, $3, $4)
              ON CONFLICT (server, project, ref_name) DO UPDATE SET revision = EXCLUDED.revision, updated_at = now()
              """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        cmd.Parameters.Add(new NpgsqlParameter { Value = project });
        cmd.Parameters.Add(new NpgsqlParameter { Value = refName });
        if (revision is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = revision });
        return cmd;
    }

    /// <summary>Records a branch's tip as seen (a catch-up meeting a branch first, or one whose ref-updated was a duplicate).</summary>
    public async Task RecordTipAsync(string server, string project, string refName, string revision, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await UpsertTipAsync(conn, null, server, project, refName, revision, ct);
    }

    /// <summary>The last tip seen per branch of <paramref name="server"/>, at most <paramref name="max"/> rows, by project and ref.</summary>
    public async Task<List<(string Project, string RefName, string Revision)>> KnownTipsAsync(string server, int max, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT project, ref_name, revision FROM {schema.Value}.branch_tips WHERE server = $1 ORDER BY project, ref_name LIMIT $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        cmd.Parameters.Add(new NpgsqlParameter { Value = max });
        var tips = new List<(string, string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tips.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return tips;
    }

    /// <summary>
    /// Which of <paramref name="projects"/> a catch-up has listed completely before: their branches
    /// (<c>branch_listings</c>), or their tags (<c>tag_listings</c>) when <paramref name="tags"/>.
    /// </summary>
    public async Task<HashSet<string>> ListedProjectsAsync(string server, IReadOnlyList<string> projects, CancellationToken ct, bool tags = false)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT project FROM {schema.Value}.{ListingTable(tags)} WHERE server = $1 AND project = ANY($2)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        cmd.Parameters.Add(new NpgsqlParameter { Value = projects.ToArray() });
        var listed = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) listed.Add(reader.GetString(0));
        return listed;
    }

    /// <summary>
    /// Records the tips of branches a catch-up met first and, when <paramref name="complete"/>, that the project's branches
    /// are all known from now on, in one transaction (a crash between them would make old branches look new).
    /// </summary>
    public async Task RecordListingAsync(string server, string project, IReadOnlyList<(string RefName, string Revision)> firstSeen, bool complete, CancellationToken ct,
        bool tags = false)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var (refName, revision) in firstSeen) await UpsertTipAsync(conn, tx, server, project, refName, revision, ct);
        if (complete)
            await using (var cmd = new NpgsqlCommand(
                $"""
                INSERT INTO {schema.Value}.{ListingTable(tags)} (server, project) VALUES ($1, $2)
                ON CONFLICT (server, project) DO UPDATE SET listed_at = now()
                """, conn, tx))
            {
                cmd.Parameters.Add(new NpgsqlParameter { Value = server });
                cmd.Parameters.Add(new NpgsqlParameter { Value = project });
                await cmd.ExecuteNonQueryAsync(ct);
            }
        await tx.CommitAsync(ct);
    }

    private static string ListingTable(bool tags) => tags ? "tag_listings" : "branch_listings";

    /// <summary>
    /// A gap began (disconnect, restart, dropped-output): remembers where the catch-up must start
    /// (the mark as it is now, unless an earlier gap is still pending). Null when nothing was ever seen.
    /// </summary>
    public async Task<DateTimeOffset?> BeginGapAsync(string server, CancellationToken ct)
    {
        // Remembered first: if the database is away, the next successful write records it.
        var version = RememberGap(server);
        await using var cmd = dataSource.CreateCommand(
            $"UPDATE {schema.Value}.stream_state SET catchup_from = COALESCE(catchup_from, last_event_at) WHERE server = $1 RETURNING catchup_from");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        var from = await cmd.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        Recorded(server, version);
        return from;
    }

    /// <summary>Where the pending catch-up starts, if one is pending.</summary>
    public async Task<DateTimeOffset?> PendingCatchUpAsync(string server, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT catchup_from FROM {schema.Value}.stream_state WHERE server = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        return await cmd.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>The catch-up from <paramref name="from"/> published everything: no gap pending any more.</summary>
    public async Task EndGapAsync(string server, DateTimeOffset from, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"UPDATE {schema.Value}.stream_state SET catchup_from = NULL WHERE server = $1 AND catchup_from = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        cmd.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// A catch-up from <paramref name="from"/> published part of the gap (up to <paramref name="to"/>): the gap
    /// stays pending from there. False when the pending gap changed meanwhile (it is left as it is).
    /// </summary>
    public async Task<bool> AdvanceGapAsync(string server, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"UPDATE {schema.Value}.stream_state SET catchup_from = $3 WHERE server = $1 AND catchup_from = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        cmd.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime });
        cmd.Parameters.Add(new NpgsqlParameter { Value = to.UtcDateTime });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The newest eventCreatedOn published for this server, if any: where catch-up starts.</summary>
    public async Task<DateTimeOffset?> LastEventAtAsync(string server, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT last_event_at FROM {schema.Value}.stream_state WHERE server = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = server });
        return await cmd.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }
}

