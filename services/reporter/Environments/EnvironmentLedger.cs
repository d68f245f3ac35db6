using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Reporter.Environments;

/// <summary>
/// Records what the deployer's events say about environments (rollouts, promotions, rollbacks, approvals asked
/// for and given) in the reporter's own tables, and reads them back for the environments page. Each write is
/// idempotent (keyed by the event id, or by run and environment), so a re-delivered event changes nothing.
/// </summary>
public sealed class EnvironmentLedger(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _s = schema.Value;

    /// <summary>Live pages (server-sent events) follow the runs' change times: an approval changes its run's page too.</summary>
    private string Touch => $"UPDATE {_s}.runs SET updated_at = now() WHERE run_id = @RunId;";

    /// <summary>How many history rows the page shows per environment and service.</summary>
    public const int HistoryPerService = 10;

    /// <summary>A finished rollout (deploy.succeeded, full): the image now runs there; who approved it comes from the run's grant.</summary>
    public Task DeployedAsync(NpgsqlTransaction tx, string eventId, string runId, DeploySucceeded e, CancellationToken ct) =>
        RecordAsync(tx, eventId, e.Environment, e.Service, "deploy", runId, e.Image, e.ConfigRevision, e.FinishedAt, ct);

    /// <summary>An image promoted into environments' values (promote.succeeded): one row per environment.</summary>
    public async Task PromotedAsync(NpgsqlTransaction tx, string eventId, string runId, PromoteSucceeded e, CancellationToken ct)
    {
        foreach (var (environment, revision) in e.ConfigRevisions)
            await RecordAsync(tx, eventId, environment, e.Chart, "promote", runId, e.Image, revision, e.FinishedAt, ct);
    }

    private Task RecordAsync(NpgsqlTransaction tx, string eventId, string environment, string service, string kind, string runId,
        ContainerImage image, string? revision, DateTimeOffset at, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.deployments (event_id, environment, service, kind, run_id, image_uri, image_tags, image_digest, config_revision, approved_by, at)
            VALUES (@eventId, @environment, @service, @kind, @runId, @uri, @tags, @digest, @revision,
                    (SELECT decided_by FROM {_s}.approvals WHERE run_id = @runId AND environment = @environment AND state = 'granted'), @at)
            ON CONFLICT (event_id, environment) DO NOTHING
            """, new { eventId, environment, service, kind, runId, uri = image.Uri, tags = image.Tags.ToArray(), digest = image.Digest, revision, at },
            tx, cancellationToken: ct));

    /// <summary>
    /// A rollback: the service runs an earlier image again. Its tags, run and approver are those of the newest earlier
    /// row with that digest (a rollback event carries only digests).
    /// </summary>
    public Task RolledBackAsync(NpgsqlTransaction tx, string eventId, RollbackPerformed e, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.deployments (event_id, environment, service, kind, run_id, image_uri, image_tags, image_digest, config_revision, approved_by, by_user, detail, at)
            SELECT @eventId, @Environment, @Service, 'rollback', earlier.run_id, COALESCE(@Uri, earlier.image_uri), earlier.image_tags, @ToDigest,
                   @ConfigRevision, earlier.approved_by, @by, @Detail, @PerformedAt
              FROM (SELECT 1) AS one
              LEFT JOIN LATERAL (SELECT run_id, image_uri, image_tags, approved_by FROM {_s}.deployments
                                  WHERE environment = @Environment AND service = @Service AND image_digest = @ToDigest
                                  ORDER BY at DESC, seq DESC LIMIT 1) AS earlier ON true
            ON CONFLICT (event_id, environment) DO NOTHING
            """, new
        {
            eventId, e.Environment, e.Service, e.Uri, e.ToDigest, e.ConfigRevision, e.Detail, e.PerformedAt,
            by = e.By?.Username ?? e.By?.Name ?? (e.Reason == RollbackReason.Automatic ? "slipway (automatic)" : null),
        }, tx, cancellationToken: ct));

    /// <summary>A deploy or promote step waits for an approval. A decision that came first (an early approval) stays.</summary>
    public Task RequestedAsync(NpgsqlTransaction tx, ApprovalRequested e, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.approvals (run_id, environment, service, stage, step, image_uri, image_tags, image_digest, requested_at, state)
            VALUES (@RunId, @Environment, @Service, @Stage, @Step, @uri, @tags, @digest, @RequestedAt, 'waiting')
            ON CONFLICT (run_id, environment) DO UPDATE SET
                service = EXCLUDED.service, stage = EXCLUDED.stage, step = EXCLUDED.step, image_uri = EXCLUDED.image_uri,
                image_tags = EXCLUDED.image_tags, image_digest = EXCLUDED.image_digest, requested_at = EXCLUDED.requested_at, updated_at = now();
            {Touch}
            """, new
        {
            e.RunId, e.Environment, e.Service, e.Stage, e.Step, uri = e.Image?.Uri, tags = e.Image?.Tags.ToArray(), digest = e.Image?.Digest, e.RequestedAt,
        }, tx, cancellationToken: ct));

    /// <summary>An approver approved: the run no longer waits (also when the approval came before the request).</summary>
    public Task GrantedAsync(NpgsqlTransaction tx, ApprovalGranted e, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.approvals (run_id, environment, state, decided_by, decided_via, decided_at)
            VALUES (@RunId, @Environment, 'granted', @by, @via, @GrantedAt)
            ON CONFLICT (run_id, environment) DO UPDATE SET
                state = 'granted', decided_by = EXCLUDED.decided_by, decided_via = EXCLUDED.decided_via, decided_at = EXCLUDED.decided_at, updated_at = now();
            {Touch}
            """, new { e.RunId, e.Environment, by = Name(e.Approver), via = Via(e.Via), e.GrantedAt }, tx, cancellationToken: ct));

    /// <summary>
    /// A refusal (by an approver, or an approval by someone who may not give one): recorded as the last decision; the run
    /// keeps waiting until it ends (the deployer cancels it when an approver refuses).
    /// </summary>
    public Task RefusedAsync(NpgsqlTransaction tx, ApprovalRefused e, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.approvals (run_id, environment, state, decided_by, decided_via, decided_at)
            VALUES (@RunId, @Environment, 'waiting', @by, @via, @RefusedAt)
            ON CONFLICT (run_id, environment) DO UPDATE SET
                decided_by = EXCLUDED.decided_by, decided_via = EXCLUDED.decided_via, decided_at = EXCLUDED.decided_at, updated_at = now()
             WHERE {_s}.approvals.state = 'waiting';
            {Touch}
            """, new { e.RunId, e.Environment, by = Name(e.Approver), via = Via(e.Via), e.RefusedAt }, tx, cancellationToken: ct));

    /// <summary>The run ended: whatever it still waited for is no longer waiting (refused when its last decision was a refusal).</summary>
    public Task RunEndedAsync(NpgsqlTransaction tx, string runId, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_s}.approvals SET state = CASE WHEN decided_by IS NULL THEN 'closed' ELSE 'refused' END, updated_at = now() " +
            "WHERE run_id = @runId AND state = 'waiting'", new { runId }, tx, cancellationToken: ct));

    /// <summary>Every environment and service with its history (newest first), and the approvals still waiting.</summary>
    public async Task<EnvironmentsView> ReadAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<DeploymentRow>(new CommandDefinition($"""
            SELECT d.environment, d.service, d.kind, d.run_id AS RunId, r.project, r.change, d.image_uri AS ImageUri, d.image_tags AS ImageTags,
                   d.image_digest AS ImageDigest, d.config_revision AS ConfigRevision, d.approved_by AS ApprovedBy, d.by_user AS ByUser, d.detail, d.at
              FROM (SELECT x.*, row_number() OVER (PARTITION BY x.environment, x.service ORDER BY x.at DESC, x.seq DESC) AS n
                      FROM {_s}.deployments x) d
              LEFT JOIN {_s}.runs r ON r.run_id = d.run_id
             WHERE d.n <= {HistoryPerService}
             ORDER BY d.environment, d.service, d.at DESC, d.seq DESC
            """, cancellationToken: ct))).ToList();
        var waiting = (await conn.QueryAsync<ApprovalRow>(new CommandDefinition($"""
            SELECT a.run_id AS RunId, a.environment, a.service, a.stage, a.step, a.image_uri AS ImageUri, a.image_tags AS ImageTags,
                   a.image_digest AS ImageDigest, a.requested_at AS RequestedAt, a.decided_by AS LastRefusedBy, a.decided_at AS LastRefusedAt,
                   r.project, r.change, r.patchset
              FROM {_s}.approvals a LEFT JOIN {_s}.runs r ON r.run_id = a.run_id
             WHERE a.state = 'waiting' AND a.requested_at IS NOT NULL
             ORDER BY a.requested_at LIMIT 100
            """, cancellationToken: ct))).ToList();
        var services = rows.GroupBy(r => (r.Environment, r.Service))
            .Select(g => new ServiceInEnvironment(g.Key.Environment, g.Key.Service, g.Select(View).ToList()))
            .ToList();
        return new EnvironmentsView(services, waiting.Select(w => new WaitingApproval(w.RunId, w.Environment, w.Service, w.Stage, w.Step,
            Image(w.ImageUri, w.ImageTags, w.ImageDigest), Utc(w.RequestedAt!.Value), w.Project, w.Change, w.Patchset,
            w.LastRefusedBy, w.LastRefusedAt is { } at ? Utc(at) : null)).ToList());
    }

    /// <summary>The approvals a run asked for or got, with what became of them (the run page).</summary>
    public async Task<IReadOnlyList<RunApproval>> OfRunAsync(string runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<RunApprovalRow>(new CommandDefinition($"""
            SELECT environment, service, state, decided_by AS DecidedBy, decided_via AS DecidedVia, requested_at AS RequestedAt, decided_at AS DecidedAt
              FROM {_s}.approvals WHERE run_id = @runId ORDER BY environment
            """, new { runId }, cancellationToken: ct)))
            .Select(a => new RunApproval(a.Environment, a.Service, a.State, a.DecidedBy, a.DecidedVia,
                a.RequestedAt is { } r ? Utc(r) : null, a.DecidedAt is { } d ? Utc(d) : null)).ToList();
    }

    private static DeploymentView View(DeploymentRow r) => new(r.Kind, r.RunId, r.Project, r.Change,
        Image(r.ImageUri, r.ImageTags, r.ImageDigest), r.ConfigRevision, r.ApprovedBy, r.ByUser, r.Detail, Utc(r.At));

    private static ImageView? Image(string? uri, string[]? tags, string? digest) =>
        uri is null && digest is null ? null : new ImageView(uri, tags ?? [], digest);

    private static string? Name(Account account) => account.Username ?? (account.AccountId is { } id ? id.ToString() : account.Name);

    private static string Via(ApprovalChannel via) => via == ApprovalChannel.Cli ? "api" : "gerrit";

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));

    private sealed class DeploymentRow
    {
        public string Environment { get; set; } = "";
        public string Service { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? RunId { get; set; }
        public string? Project { get; set; }
        public int? Change { get; set; }
        public string? ImageUri { get; set; }
        public string[]? ImageTags { get; set; }
        public string? ImageDigest { get; set; }
        public string? ConfigRevision { get; set; }
        public string? ApprovedBy { get; set; }
        public string? ByUser { get; set; }
        public string? Detail { get; set; }
        public DateTime At { get; set; }
    }

    private sealed class RunApprovalRow
    {
        public string Environment { get; set; } = "";
        public string? Service { get; set; }
        public string State { get; set; } = "";
        public string? DecidedBy { get; set; }
        public string? DecidedVia { get; set; }
        public DateTime? RequestedAt { get; set; }
        public DateTime? DecidedAt { get; set; }
    }

    private sealed class ApprovalRow
    {
        public string RunId { get; set; } = "";
        public string Environment { get; set; } = "";
        public string? Service { get; set; }
        public string? Stage { get; set; }
        public string? Step { get; set; }
        public string? ImageUri { get; set; }
        public string[]? ImageTags { get; set; }
        public string? ImageDigest { get; set; }
        public DateTime? RequestedAt { get; set; }
        public string? LastRefusedBy { get; set; }
        public DateTime? LastRefusedAt { get; set; }
        public string? Project { get; set; }
        public int? Change { get; set; }
        public int? Patchset { get; set; }
    }
}
