using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Slipway.Storage.Jobs;

/// <summary>
/// A service's job table. Leasing uses <c>FOR UPDATE SKIP LOCKED</c> so workers never wait on
/// each other, and every state change after the lease is fenced by the lease owner, so a worker
/// whose lease expired cannot overwrite the retry's result.
/// </summary>
public sealed class JobQueue(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _table = $"{schema.Value}.jobs";

    /// <summary>The LISTEN/NOTIFY channel that wakes idle workers when a job is recorded (delivered when its transaction commits).</summary>
    public string Channel { get; } = $"{schema.Value}_jobs";

    /// <summary>Records a job in the caller's transaction; returns its id, or null if a job with that key exists.</summary>
    public async Task<long?> EnqueueAsync(NpgsqlTransaction tx, NewJob job, CancellationToken ct = default)
    {
        var sql = $"""
            INSERT INTO {_table} (kind, dedupe_key, run_id, payload, max_attempts, not_before, serial_key, traceparent)
            VALUES (@Kind, @DedupeKey, @RunId, @Payload::jsonb, @MaxAttempts, COALESCE(@NotBefore, now()), @SerialKey, @traceParent)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
            """;
        var id = await tx.Connection!.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(sql, new
        {
            job.Kind, job.DedupeKey, job.RunId, job.Payload, job.MaxAttempts, job.NotBefore, job.SerialKey, traceParent = CurrentTraceParent(),
        }, tx, cancellationToken: ct));
        if (id is not null) await NotifyAsync(tx, ct);
        return id;
    }

    /// <summary>The span recording a job (e.g. a Kafka consume span), so the job's work continues that trace.</summary>
    private static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    private Task NotifyAsync(NpgsqlTransaction tx, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"SELECT pg_notify('{Channel}', '')", transaction: tx, cancellationToken: ct));

    /// <summary>
    /// Records a job, or, when one with that key is still pending, replaces its payload and due time (a better
    /// description of the same work arrived before it started). Returns false when the job exists and already started.
    /// </summary>
    public async Task<bool> EnqueueOrReplacePendingAsync(NpgsqlTransaction tx, NewJob job, CancellationToken ct = default)
    {
        var sql = $"""
            INSERT INTO {_table} (kind, dedupe_key, run_id, payload, max_attempts, not_before, serial_key, traceparent)
            VALUES (@Kind, @DedupeKey, @RunId, @Payload::jsonb, @MaxAttempts, COALESCE(@NotBefore, now()), @SerialKey, @traceParent)
            ON CONFLICT (dedupe_key) DO UPDATE
               SET payload = EXCLUDED.payload, not_before = EXCLUDED.not_before, updated_at = now()
             WHERE {_table}.state = 'pending' AND {_table}.attempts = 0
            RETURNING id
            """;
        var recorded = await tx.Connection!.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(sql, new
        {
            job.Kind, job.DedupeKey, job.RunId, job.Payload, job.MaxAttempts, job.NotBefore, job.SerialKey, traceParent = CurrentTraceParent(),
        }, tx, cancellationToken: ct)) is not null;
        if (recorded) await NotifyAsync(tx, ct);
        return recorded;
    }

    /// <summary>Takes the oldest job that is pending and due, or running under an expired lease.</summary>
    public async Task<LeasedJob?> TryLeaseAsync(string owner, TimeSpan lease, IReadOnlyCollection<string>? kinds = null,
        CancellationToken ct = default)
    {
        var sql = $"""
            UPDATE {_table} j
               SET state = 'running', lease_owner = @owner, attempts = j.attempts + 1,
                   lease_expires_at = now() + @lease, updated_at = now()
             WHERE j.id = (SELECT c.id FROM {_table} c
                            WHERE ((c.state = 'pending' AND c.not_before <= now())
                                OR (c.state = 'running' AND c.lease_expires_at < now()))
                              AND (@kinds::text IS NULL OR c.kind = ANY(string_to_array(@kinds, ',')))
                              -- a serial job waits for the older unfinished jobs of its key
                              AND (c.serial_key IS NULL OR NOT EXISTS (
                                     SELECT 1 FROM {_table} e
                                      WHERE e.serial_key = c.serial_key AND e.id < c.id
                                        AND e.state IN ('pending', 'running')))
                            ORDER BY c.id
                            FOR UPDATE SKIP LOCKED
                            LIMIT 1)
            RETURNING j.id AS Id, j.kind AS Kind, j.dedupe_key AS DedupeKey, j.run_id AS RunId,
                      j.payload::text AS Payload, j.attempts AS Attempts, j.max_attempts AS MaxAttempts,
                      j.lease_owner AS LeaseOwner, j.traceparent AS TraceParent
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<LeasedJob>(new CommandDefinition(sql,
            // Dapper would expand an array parameter into a list, so kinds travel as one comma-joined string.
            new { owner, lease, kinds = kinds is null ? null : string.Join(',', kinds) }, cancellationToken: ct));
    }

    /// <summary>Extends the lease; false means it was lost (expired and taken by another worker).</summary>
    public async Task<bool> RenewAsync(LeasedJob job, TimeSpan lease, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var n = await conn.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET lease_expires_at = now() + @lease, updated_at = now() WHERE id = @Id AND lease_owner = @LeaseOwner AND state = 'running'",
            new { lease, job.Id, job.LeaseOwner }, cancellationToken: ct));
        return n == 1;
    }

    /// <summary>
    /// True if <paramref name="job"/>'s lease is still this worker's; locks the job's row for the rest of the caller's
    /// transaction, so no other worker can take the job over before that transaction ends (a fence for side effects).
    /// </summary>
    public async Task<bool> HoldsLeaseAsync(NpgsqlTransaction tx, LeasedJob job, CancellationToken ct = default) =>
        await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT count(*) FROM (SELECT 1 FROM {_table} WHERE id = @Id AND lease_owner = @LeaseOwner AND state = 'running' FOR SHARE) held",
            new { job.Id, job.LeaseOwner }, tx, cancellationToken: ct)) == 1;

    /// <summary>Marks the job finished in the caller's transaction (with the job's effects); false if the lease was lost.</summary>
    public async Task<bool> FinishAsync(NpgsqlTransaction tx, LeasedJob job, bool succeeded, string? error = null,
        CancellationToken ct = default)
    {
        var n = await tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE {_table} SET state = @state, last_error = @error, finished_at = now(), updated_at = now(),
                   lease_owner = NULL, lease_expires_at = NULL
             WHERE id = @Id AND lease_owner = @LeaseOwner AND state = 'running'
            """,
            new { state = succeeded ? "succeeded" : "failed", error, job.Id, job.LeaseOwner }, tx, cancellationToken: ct));
        return n == 1;
    }

    /// <summary>Gives the job back for a later attempt (after <paramref name="delay"/>); false if the lease was lost.</summary>
    public async Task<bool> ReleaseForRetryAsync(LeasedJob job, string error, TimeSpan delay, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var n = await conn.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE {_table} SET state = 'pending', last_error = @error, not_before = now() + @delay, updated_at = now(),
                   lease_owner = NULL, lease_expires_at = NULL
             WHERE id = @Id AND lease_owner = @LeaseOwner AND state = 'running'
            """,
            new { error, delay, job.Id, job.LeaseOwner }, cancellationToken: ct));
        return n == 1;
    }

    /// <summary>Cancels a run's jobs that have not finished (e.g. a newer patchset superseded the run).</summary>
    public async Task<int> CancelRunAsync(NpgsqlTransaction tx, string runId, CancellationToken ct = default)
        => await tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET state = 'cancelled', finished_at = now(), updated_at = now() WHERE run_id = @runId AND state IN ('pending', 'running')",
            new { runId }, tx, cancellationToken: ct));

    /// <summary>Jobs waiting or running: the queue depth metric.</summary>
    public async Task<long> CountOpenAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM {_table} WHERE state IN ('pending', 'running')", cancellationToken: ct));
    }
}
