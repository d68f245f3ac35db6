using System.Text.Json;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Reporter.Runs;

/// <summary>Records runs and their steps from pipeline events, and reads them back.</summary>
public sealed class RunLedger(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _s = schema.Value;

    public Task StartAsync(NpgsqlTransaction tx, string runId, RunStarted started, CancellationToken ct)
    {
        var planned = started.Plan.Stages.SelectMany(s => s.Steps.Select(step => (Name: $"{s.Name}/{step.Name}", step.Kind))).ToList();
        var steps = planned.Select(p => p.Name).ToList();
        var kinds = planned.Select(p => Kebab(p.Kind.ToString())).ToArray();
        return tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.runs (run_id, project, change, patchset, revision, ref, trigger_kind, pipeline, total_steps, first_step, started_at, notes, planned_steps, planned_kinds, branch)
            VALUES (@runId, @Project, @Change, @Patchset, @Revision, @Ref, @kind, @pipeline, @total, @first, @startedAt, @notes, @plannedSteps, @plannedKinds, @Branch)
            ON CONFLICT (run_id) DO NOTHING
            """, new
        {
            runId, started.Trigger.Project, started.Trigger.Branch, started.Trigger.Change, started.Trigger.Patchset, started.Trigger.Revision,
            started.Trigger.Ref, kind = Kebab(started.Trigger.Kind.ToString()), pipeline = started.Plan.Pipeline,
            total = steps.Count, first = steps.FirstOrDefault(), startedAt = started.StartedAt,
            plannedSteps = steps.ToArray(), plannedKinds = kinds,
            notes = started.Plan.Notes is { Count: > 0 } n ? n.Take(10).Select(x => x.Length > 500 ? x[..500] : x).ToArray() : null,
        }, tx, cancellationToken: ct));
    }

    public Task StepAsync(NpgsqlTransaction tx, string runId, string kind, string state, StepEventData e, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.steps (run_id, stage, step, kind, state, attempt, started_at, finished_at, duration_ms, reason, output_tail)
            VALUES (@runId, @Stage, @Step, @kind, @state, @Attempt, @StartedAt, @FinishedAt, @DurationMs, @Reason, @OutputTail)
            ON CONFLICT (run_id, stage, step) DO UPDATE SET
                state = EXCLUDED.state, attempt = EXCLUDED.attempt, started_at = EXCLUDED.started_at,
                finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
                reason = EXCLUDED.reason, output_tail = EXCLUDED.output_tail
            ;
            UPDATE {_s}.runs SET updated_at = now() WHERE run_id = @runId
            """, new { runId, kind, state, e.Stage, e.Step, e.Attempt, e.StartedAt, e.FinishedAt, e.DurationMs, e.Reason, e.OutputTail },
            tx, cancellationToken: ct));

    public Task FinishAsync(NpgsqlTransaction tx, string runId, RunFinished finished, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            UPDATE {_s}.runs SET updated_at = now(), finished_at = @FinishedAt, outcome = @outcome, failed_step = @failed, reason = @Reason,
                   image_uri = @uri, image_tags = @tags, image_digest = @digest, images = @images::jsonb
             WHERE run_id = @runId
            """, new
        {
            runId, finished.FinishedAt, outcome = Kebab(finished.Outcome.ToString()),
            failed = finished.FailedStep is null ? null : $"{finished.FailedStage}/{finished.FailedStep}", finished.Reason,
            uri = finished.Image?.Uri, tags = finished.Image?.Tags.ToArray(), digest = finished.Image?.Digest,
            images = finished.Images is { Count: > 0 } images ? JsonSerializer.Serialize(images, ContractJson.Options) : null,
        }, tx, cancellationToken: ct));

    /// <summary>
    /// If the run's last progress comment is older than <paramref name="minInterval"/>, claims the
    /// slot and returns how many steps the run has started so far (the new step's number); else null.
    /// </summary>
    public async Task<int?> ClaimProgressAsync(NpgsqlTransaction tx, string runId, TimeSpan minInterval, CancellationToken ct)
    {
        var claimed = await tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_s}.runs SET last_progress_at = now() WHERE run_id = @runId AND finished_at IS NULL " +
            "AND (last_progress_at IS NULL OR last_progress_at <= now() - @minInterval)",
            new { runId, minInterval }, tx, cancellationToken: ct));
        if (claimed == 0) return null;
        return await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT count(*) FROM {_s}.steps WHERE run_id = @runId", new { runId }, tx, cancellationToken: ct));
    }

    /// <summary>One more failed try of a comment while Gerrit is unavailable (shown on the status page).</summary>
    public async Task RecordGerritWaitAsync(string runId, string error, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_s}.runs SET gerrit_waiting_since = COALESCE(gerrit_waiting_since, now()), " +
            "gerrit_tries = COALESCE(gerrit_tries, 0) + 1, gerrit_last_error = @error WHERE run_id = @runId",
            new { runId, error = error.Length > 500 ? error[..500] : error }, cancellationToken: ct));
    }

    /// <summary>The comment got through (or failed for good): the run no longer waits for Gerrit.</summary>
    public Task ClearGerritWaitAsync(NpgsqlTransaction tx, string runId, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_s}.runs SET gerrit_waiting_since = NULL, gerrit_tries = NULL, gerrit_last_error = NULL " +
            "WHERE run_id = @runId AND gerrit_waiting_since IS NOT NULL",
            new { runId }, tx, cancellationToken: ct));

    public async Task<RunView?> GetAsync(string runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var runs = await ReadAsync(conn, "run_id = @runId", new { runId }, ct);
        return runs.SingleOrDefault();
    }

    /// <summary>Every run of a change's patch set (its first run and its rechecks), oldest first; at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<RunView>> OfPatchsetAsync(int change, int patchset, int limit, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, "change = @change AND patchset = @patchset", new { change, patchset, limit }, ct);
    }

    /// <summary>Runs newest first, filtered; <paramref name="before"/> continues a list from its last run's start.</summary>
    public async Task<IReadOnlyList<RunView>> ListAsync(RunFilter filter, CancellationToken ct)
    {
        var where = new List<string> { "true" };
        if (filter.Project is not null) where.Add("project = @Project");
        if (filter.Change is not null) where.Add("change = @Change");
        if (filter.Branch is not null) where.Add("branch = @Branch");
        if (filter.State is "running") where.Add("finished_at IS NULL");
        else if (filter.State is not null) where.Add("outcome = @State");
        if (filter.Before is not null) where.Add("started_at < @Before");
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, string.Join(" AND ", where), new
        {
            filter.Project, filter.Change, filter.Branch, filter.State, Before = filter.Before?.UtcDateTime, limit = filter.Limit,
        }, ct, newestFirst: true);
    }

    public const int MaxChangesPerPoll = 500;

    /// <summary>Runs changed after <paramref name="since"/> (at most <see cref="MaxChangesPerPoll"/>), each with its change time, oldest first.</summary>
    public async Task<IReadOnlyList<(string RunId, DateTime UpdatedAt)>> ChangedSinceAsync(DateTime since, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string RunId, DateTime UpdatedAt)>(new CommandDefinition(
            $"SELECT run_id, updated_at FROM {_s}.runs WHERE updated_at > @since ORDER BY updated_at LIMIT {MaxChangesPerPoll}",
            new { since = DateTime.SpecifyKind(since, DateTimeKind.Utc) }, cancellationToken: ct))).ToList();
    }

    /// <summary>The database's clock now (live pages start from it, so no change falls between two clocks).</summary>
    public async Task<DateTime> NowAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT now()", cancellationToken: ct));
    }

    private async Task<IReadOnlyList<RunView>> ReadAsync(NpgsqlConnection conn, string where, object args, CancellationToken ct,
        bool newestFirst = false)
    {
        var order = newestFirst ? "started_at DESC, run_id DESC" : "started_at, run_id";
        var limit = where.Contains("@runId") ? "" : "LIMIT @limit";
        var runs = (await conn.QueryAsync<RunRow>(new CommandDefinition($"""
            SELECT run_id AS RunId, project, change, patchset, revision, ref, trigger_kind AS TriggerKind, pipeline,
                   total_steps AS TotalSteps, first_step AS FirstStep, started_at AS StartedAt, finished_at AS FinishedAt,
                   outcome, failed_step AS FailedStep, reason, image_uri AS ImageUri, image_tags AS ImageTags, image_digest AS ImageDigest, images, notes,
                   planned_steps AS PlannedSteps, planned_kinds AS PlannedKinds, branch,
                   gerrit_waiting_since AS GerritWaitingSince, gerrit_tries AS GerritTries, gerrit_last_error AS GerritLastError
              FROM {_s}.runs WHERE {where} ORDER BY {order} {limit}
            """, args, cancellationToken: ct))).ToList();
        if (runs.Count == 0) return [];
        var steps = (await conn.QueryAsync<StepRow>(new CommandDefinition($"""
            SELECT run_id AS RunId, stage, step, kind, state, attempt, started_at AS StartedAt, finished_at AS FinishedAt,
                   duration_ms AS DurationMs, reason, output_tail AS OutputTail
              FROM {_s}.steps WHERE run_id = ANY(@ids) ORDER BY started_at, seq
            """, new { ids = runs.Select(r => r.RunId).ToArray() }, cancellationToken: ct))).ToLookup(s => s.RunId);
        return runs.Select(run => new RunView(run.RunId, run.Project, run.Change, run.Patchset, run.Revision, run.Ref, run.TriggerKind, run.Pipeline,
            run.TotalSteps, run.FirstStep, Utc(run.StartedAt), run.FinishedAt is { } f ? Utc(f) : null, run.Outcome, run.FailedStep,
            run.Reason, run.ImageUri, run.ImageTags, run.ImageDigest)
        {
            Notes = run.Notes ?? [],
            Images = run.Images is { } images ? JsonSerializer.Deserialize<List<PublishedImage>>(images, ContractJson.Options) ?? [] : [],
            Branch = run.Branch,
            PlannedSteps = run.PlannedSteps is { } names && run.PlannedKinds is { } kinds && names.Length == kinds.Length
                ? names.Zip(kinds, (n, k) => new PlannedStepView(n, k)).ToList()
                : [],
            GerritWait = run.GerritWaitingSince is { } w ? new GerritWaitView(Utc(w), run.GerritTries ?? 0, run.GerritLastError) : null,
            Steps = steps[run.RunId].Select(s => new StepView(s.Stage, s.Step, s.Kind, s.State, s.Attempt, Utc(s.StartedAt),
                s.FinishedAt is { } sf ? Utc(sf) : null, s.DurationMs, s.Reason, s.OutputTail)).ToList(),
        }).ToList();
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));

    private static string Kebab(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    // Plain settable rows: Dapper maps columns by name onto these (constructor mapping needs exact types).
    private sealed class RunRow
    {
        public string RunId { get; set; } = "";
        public string Project { get; set; } = "";
        public int? Change { get; set; }
        public int? Patchset { get; set; }
        public string Revision { get; set; } = "";
        public string Ref { get; set; } = "";
        public string TriggerKind { get; set; } = "";
        public string Pipeline { get; set; } = "";
        public int TotalSteps { get; set; }
        public string? FirstStep { get; set; }
        public DateTime StartedAt { get; set; }
        public DateTime? FinishedAt { get; set; }
        public string? Outcome { get; set; }
        public string? FailedStep { get; set; }
        public string? Reason { get; set; }
        public string? ImageUri { get; set; }
        public string[]? ImageTags { get; set; }
        public string? ImageDigest { get; set; }
        public string? Images { get; set; }
        public string[]? Notes { get; set; }
        public string[]? PlannedSteps { get; set; }
        public string[]? PlannedKinds { get; set; }
        public string? Branch { get; set; }
        public DateTime? GerritWaitingSince { get; set; }
        public int? GerritTries { get; set; }
        public string? GerritLastError { get; set; }
    }

    private sealed class StepRow
    {
        public string RunId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string Step { get; set; } = "";
        public string Kind { get; set; } = "";
        public string State { get; set; } = "";
        public int Attempt { get; set; }
        public DateTime StartedAt { get; set; }
        public DateTime? FinishedAt { get; set; }
        public long? DurationMs { get; set; }
        public string? Reason { get; set; }
        public string? OutputTail { get; set; }
    }
}

/// <summary>The fields every step event shares (build, test, smoke-test, publish, deploy × started/succeeded/failed).</summary>
public sealed record StepEventData(string Stage, string Step, int Attempt, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
    long? DurationMs, string? Reason, string? OutputTail);

/// <summary>Which runs a list shows: every filter is optional; <c>State</c> is running, succeeded, failed or cancelled.</summary>
public sealed record RunFilter(string? Project, int? Change, string? Branch, string? State, DateTimeOffset? Before, int Limit);
