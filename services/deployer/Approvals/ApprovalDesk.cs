using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Hosting.Runs;
using Slipway.Messaging;

namespace Slipway.Deployer.Approvals;

/// <summary>
/// Decides approvals: a run's rollout to an environment may go on when someone on the approvers list
/// approves it (Gerrit comment or the CLI); anyone else's approval is refused and reported (an event the
/// reporter shows). Either way the decision is an event written in the caller's transaction.
/// </summary>
public sealed class ApprovalDesk(RunStateStore runs, Outbox outbox, RunEventFactory events, IOptionsMonitor<DeployerOptions> options,
    TimeProvider clock, ILogger<ApprovalDesk> logger)
{
    public enum Decision { Granted, Refused, NotAwaiting }

    /// <summary>The environment a comment approves, when a line of it is an approval command.</summary>
    public string? EnvironmentIn(string? comment)
    {
        if (string.IsNullOrWhiteSpace(comment)) return null;
        var text = GerritComments.Text(comment);
        var match = Regex.Match(text, options.CurrentValue.ApprovalPattern, RegexOptions.Multiline | RegexOptions.IgnoreCase,
            TimeSpan.FromMilliseconds(100));
        return match.Success ? match.Groups["env"].Value.ToLowerInvariant() : null;
    }

    /// <summary>True when the run is open and its next step is a rollout to (or promote into) <paramref name="environment"/> that needs approval.</summary>
    public static bool Awaits(RunState run, string environment) =>
        run.Outcome is null && !run.Approved(environment)
        && run.Progress.Ready(run.Succeeded).Any(s => s.Step.EnvironmentsNeedingApproval().Contains(environment));

    public async Task<Decision> DecideAsync(NpgsqlTransaction tx, string runId, string environment, Account approver, ApprovalChannel via,
        string? comment, CancellationToken ct)
    {
        var run = await runs.GetAsync(tx, runId, ct);
        if (run is null || !Awaits(run, environment)) return Decision.NotAwaiting;
        var who = approver.Username ?? approver.Email ?? approver.Name ?? "?";
        var now = clock.GetUtcNow();
        if (options.CurrentValue.Approvers.Contains(who, StringComparer.OrdinalIgnoreCase))
        {
            await outbox.AddPipelineEventAsync(tx, events.Create(runId, new ApprovalGranted
            {
                RunId = runId, Environment = environment, Approver = approver, Via = via, GrantedAt = now, Comment = comment,
            }, environment), ct);
            logger.LogInformation("run {RunId}: {Environment} approved by {Who} via {Via}", runId, environment, who, via);
            return Decision.Granted;
        }
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, new ApprovalRefused
        {
            RunId = runId, Environment = environment, Approver = approver, Via = via, RefusedAt = now,
            Reason = $"{who} is not allowed to approve {environment} (not in Deployer:Approvers)",
        }, environment, who, now.ToUnixTimeMilliseconds().ToString()), ct);
        logger.LogWarning("run {RunId}: {Environment} approval by {Who} refused: not an approver", runId, environment, who);
        return Decision.Refused;
    }
}
