using System.Text.Json;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Runs;

/// <summary>The service's <c>run_state</c> table. Every write happens in the caller's transaction (with the inbox or the job).</summary>
public sealed class RunStateStore(SchemaName schema)
{
    private readonly string _table = $"{schema.Value}.run_state";

    public async Task<bool> StartAsync(NpgsqlTransaction tx, string runId, RunStarted started, CancellationToken ct)
    {
        var n = await tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO {_table} (run_id, started, project, change, patchset) VALUES (@runId, @started::jsonb, @project, @change, @patchset)
            ON CONFLICT (run_id) DO NOTHING
            """,
            new
            {
                runId, started = JsonSerializer.Serialize(started, ContractJson.Options), project = started.Trigger.Project,
                change = started.Trigger.Change, patchset = started.Trigger.Patchset,
            }, tx, cancellationToken: ct));
        return n == 1;
    }

    /// <summary>Locks the run's row for the rest of the transaction (nothing when there is no such run).</summary>
    public Task LockAsync(NpgsqlTransaction tx, string runId, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"SELECT 1 FROM {_table} WHERE run_id = @runId FOR UPDATE",
            new { runId }, tx, cancellationToken: ct));

    /// <summary>Reads the run, locking its row for the rest of the transaction so concurrent updates of one run serialize.</summary>
    public async Task<RunState?> GetAsync(NpgsqlTransaction tx, string runId, CancellationToken ct)
    {
        var row = await tx.Connection!.QuerySingleOrDefaultAsync<(string started, string steps, string approvals, string? outcome)>(
            new CommandDefinition($"SELECT started::text, steps::text, approvals::text, outcome FROM {_table} WHERE run_id = @runId FOR UPDATE",
                new { runId }, tx, cancellationToken: ct));
        if (row.started is null) return null;
        return new RunState(runId,
            JsonSerializer.Deserialize<RunStarted>(row.started, ContractJson.Options)!,
            JsonSerializer.Deserialize<Dictionary<string, StepRecord>>(row.steps, ContractJson.Options)!,
            JsonSerializer.Deserialize<Dictionary<string, string>>(row.approvals, ContractJson.Options)!,
            row.outcome is null ? null : Enum.Parse<RunOutcome>(row.outcome, ignoreCase: true));
    }

    /// <summary>Records a step's outcome; a later attempt's record replaces an earlier one, but never a success.</summary>
    public Task RecordStepAsync(NpgsqlTransaction tx, string runId, string step, StepRecord record, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE {_table}
               SET steps = CASE WHEN steps->@step->>'outcome' = 'succeeded' THEN steps
                                ELSE jsonb_set(steps, ARRAY[@step], @record::jsonb) END,
                   updated_at = now()
             WHERE run_id = @runId
            """,
            new { runId, step, record = JsonSerializer.Serialize(record, ContractJson.Options) }, tx, cancellationToken: ct));

    public Task RecordApprovalAsync(NpgsqlTransaction tx, string runId, string environment, string state, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET approvals = jsonb_set(approvals, ARRAY[@environment], to_jsonb(@state::text)), updated_at = now() WHERE run_id = @runId",
            new { runId, environment, state }, tx, cancellationToken: ct));

    /// <summary>Sets the outcome once; false when the run had already ended (the first outcome stands).</summary>
    public async Task<bool> EndAsync(NpgsqlTransaction tx, string runId, RunOutcome outcome, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET outcome = @outcome, updated_at = now() WHERE run_id = @runId AND outcome IS NULL",
            new { runId, outcome = JsonNamingPolicy.KebabCaseLower.ConvertName(outcome.ToString()) }, tx, cancellationToken: ct)) == 1;

    /// <summary>Unfinished runs of a change (for cancelling the runs a newer patch set supersedes).</summary>
    public async Task<IReadOnlyList<(string RunId, int? Patchset)>> OpenRunsOfChangeAsync(NpgsqlTransaction tx, string project, int change,
        CancellationToken ct) =>
        (await tx.Connection!.QueryAsync<(string, int?)>(new CommandDefinition(
            $"SELECT run_id, patchset FROM {_table} WHERE project = @project AND change = @change AND outcome IS NULL",
            new { project, change }, tx, cancellationToken: ct))).ToList();

    /// <summary>Notes that an event of the run arrived (the stuck-run clock restarts); nothing for a run that ended.</summary>
    public Task TouchAsync(NpgsqlTransaction tx, string runId, string eventType, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET last_event_at = now(), last_event_type = @eventType WHERE run_id = @runId AND outcome IS NULL",
            new { runId, eventType }, tx, cancellationToken: ct));

    /// <summary>
    /// Open runs whose last event is older than <paramref name="stuckAfter"/> (<paramref name="awaitingApprovalStuckAfter"/>
    /// when that event asked for an approval), oldest first (after <paramref name="after"/>, to page), locked (others' sweeps skip them).
    /// </summary>
    public async Task<IReadOnlyList<(string RunId, DateTimeOffset LastEventAt, string? LastEventType)>> StuckRunsAsync(NpgsqlTransaction tx,
        TimeSpan stuckAfter, TimeSpan awaitingApprovalStuckAfter, string approvalRequestedType, int limit, CancellationToken ct,
        (DateTimeOffset LastEventAt, string RunId)? after = null) =>
        (await tx.Connection!.QueryAsync<(string, DateTime, string?)>(new CommandDefinition(
            $"""
            SELECT run_id, last_event_at, last_event_type FROM {_table}
             WHERE outcome IS NULL
               AND last_event_at < now() - CASE WHEN last_event_type = @approvalRequestedType THEN @awaitingApprovalStuckAfter ELSE @stuckAfter END
               AND (@afterAt::timestamptz IS NULL OR (last_event_at, run_id) > (@afterAt::timestamptz, @afterRun::text))
             ORDER BY last_event_at, run_id
             LIMIT @limit
             FOR UPDATE SKIP LOCKED
            """,
            new
            {
                stuckAfter, awaitingApprovalStuckAfter, approvalRequestedType, limit,
                afterAt = after?.LastEventAt.UtcDateTime, afterRun = after?.RunId,
            }, tx, cancellationToken: ct)))
        .Select(r => (r.Item1, new DateTimeOffset(DateTime.SpecifyKind(r.Item2, DateTimeKind.Utc)), r.Item3)).ToList();
}
