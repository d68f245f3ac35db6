using System.Text.Json;
using Dapper;
using Npgsql;
using Slipway.Storage;
using Slipway.Storage.Jobs;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// The deployer's <c>manual_rollbacks</c> table: one row per rollback request, recorded with its job in one transaction
/// (so a request is either carried out or was never taken), and the answer the API gives once it has ended.
/// </summary>
public sealed class ManualRollbackRequests(NpgsqlDataSource dataSource, SchemaName schema, JobQueue jobs)
{
    private readonly string _table = $"{schema.Value}.manual_rollbacks";

    /// <summary>A request: who asked what. <see cref="Status"/> and <see cref="Answer"/> are null while it runs.</summary>
    public sealed record Request(string Id, string Environment, string Service, string RequestedBy, bool AllAtOnce, int? Status, string? Answer)
    {
        /// <summary>True when <paramref name="other"/> asks for the same thing (a retry), not something else under a reused id.</summary>
        public bool Same(Request other) =>
            Environment == other.Environment && Service == other.Service && RequestedBy == other.RequestedBy && AllAtOnce == other.AllAtOnce;
    }

    /// <summary>
    /// Records <paramref name="request"/> and its job, unless a request with that id exists: then returns that one
    /// (the caller compares it with <see cref="Request.Same"/>).
    /// </summary>
    public async Task<Request> RecordAsync(Request request, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO {_table} (id, environment, service, requested_by, all_at_once)
            VALUES (@Id, @Environment, @Service, @RequestedBy, @AllAtOnce) ON CONFLICT (id) DO NOTHING
            """, request, tx, cancellationToken: ct));
        if (inserted == 1) await jobs.EnqueueAsync(tx, ManualRollbackJob.For(request.Id), ct);
        var stored = await FindAsync(conn, tx, request.Id, ct);
        await tx.CommitAsync(ct);
        return stored!;
    }

    public async Task<Request?> FindAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await FindAsync(conn, null, id, ct);
    }

    private Task<Request?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Request>(new CommandDefinition(
            $"""
            SELECT id AS "Id", environment AS "Environment", service AS "Service", requested_by AS "RequestedBy", all_at_once AS "AllAtOnce",
                   status AS "Status", answer::text AS "Answer"
              FROM {_table} WHERE id = @id
            """, new { id }, tx, cancellationToken: ct));

    /// <summary>Records the answer in the job's finishing transaction (first answer wins).</summary>
    public Task FinishAsync(NpgsqlTransaction tx, string id, int status, object answer, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET status = @status, answer = @answer::jsonb, finished_at = now() WHERE id = @id AND status IS NULL",
            new { id, status, answer = JsonSerializer.Serialize(answer, JsonSerializerOptions.Web) }, tx, cancellationToken: ct));
}
