using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Messaging;

namespace Slipway.Deployer.Approvals;

/// <summary>
/// Decides approvals: a run's rollout to an environment may go on when someone on the environment's approvers list
/// (Gerrit username or account id, never display name or email) approves it (Gerrit comment or the CLI); anyone
/// else's approval is refused and reported (an event the reporter shows). Either way the decision is an event
/// written in the caller's transaction.
/// </summary>
public sealed class ApprovalDesk(RunStateStore runs, Outbox outbox, RunEventFactory events, IOptionsMonitor<DeployerOptions> options,
    TimeProvider clock, ILogger<ApprovalDesk> logger)
{
    public enum Decision { Granted, Refused, NotAwaiting }

    /// <summary>
    /// The environment a comment approves, when a line a human wrote (<see cref="GerritComments.HumanText"/>: no header,
    /// no quoted or pre-formatted output) is an approval command.
    /// </summary>
    public string? EnvironmentIn(string? comment)
    {
        var text = GerritComments.HumanText(comment);
        if (string.IsNullOrWhiteSpace(text)) return null;
        var match = Regex.Match(text, options.CurrentValue.ApprovalPattern, RegexOptions.Multiline | RegexOptions.IgnoreCase,
            TimeSpan.FromMilliseconds(100));
        return match.Success ? match.Groups["env"].Value.ToLowerInvariant() : null;
    }

    /// <summary>
    /// True when the run is open, not yet approved for <paramref name="environment"/>, and has a rollout to (or promote
    /// into) it that needs approval and has not happened: an approval given before the run asks (early) is kept and used
    /// when the rollout is due.
    /// </summary>
    public static bool Expects(RunState run, string environment) =>
        run.Outcome is null && !run.Approved(environment)
        && run.Progress.Steps.Any(s => s.Step.EnvironmentsNeedingApproval().Contains(environment)
            && !run.Succeeded.Contains(s.Step.Name));

    /// <summary>
    /// Decides one approval. Serialized per run (a transaction-scoped lock) and recorded in the run state in the same
    /// transaction, so an approval given twice, or through Gerrit and the CLI at once, grants once: the second finds the
    /// run approved (<see cref="Decision.NotAwaiting"/>).
    /// </summary>
    public async Task<Decision> DecideAsync(NpgsqlTransaction tx, string runId, string environment, Account approver, ApprovalChannel via,
        string? comment, CancellationToken ct)
    {
        // The run's row first (FOR UPDATE), then the approval lock: the consumer's transaction may already hold the row
        // (a pipeline event of the run earlier in its batch), so taking the approval lock first deadlocked against it.
        var run = await runs.GetAsync(tx, runId, ct);
        if (run is null) return Decision.NotAwaiting;
        await using (var lockRun = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", tx.Connection, tx))
        {
            lockRun.Parameters.Add(new NpgsqlParameter { Value = "slipway-approval:" + runId });
            await lockRun.ExecuteNonQueryAsync(ct);
        }
        if (!Expects(run, environment)) return Decision.NotAwaiting;
        var who = approver.Username ?? (approver.AccountId is { } id ? $"account {id}" : "an account without username");
        var now = clock.GetUtcNow();
        var approvers = options.CurrentValue.ApproversFor(environment);
        if (GerritComments.IsAccount(approver, approvers))
        {
            await outbox.AddPipelineEventAsync(tx, events.Create(runId, new ApprovalGranted
            {
                RunId = runId, Environment = environment, Approver = approver, Via = via, GrantedAt = now, Comment = comment,
            }, environment), ct);
            await runs.RecordApprovalAsync(tx, runId, environment, "granted", ct);
            logger.LogInformation("run {RunId}: {Environment} approved by {Who} via {Via}", runId, environment, who, via);
            return Decision.Granted;
        }
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, new ApprovalRefused
        {
            RunId = runId, Environment = environment, Approver = approver, Via = via, RefusedAt = now,
            Reason = $"{who} is not allowed to approve {environment} (approvers are named by Gerrit username or account id)",
        }, environment, who, now.ToUnixTimeMilliseconds().ToString()), ct);
        logger.LogWarning("run {RunId}: {Environment} approval by {Who} refused: not an approver", runId, environment, who);
        return Decision.Refused;
    }
}
