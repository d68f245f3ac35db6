using System.Text.Json;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Runs;

/// <summary>
/// Follows runs through <c>pipeline.events</c> and records a step job when one of this service's steps
/// becomes due (design.md, "Who moves a run forward"). Runs in the consumer's transaction, so the inbox,
/// the run state and the job are written together; the job's dedupe key makes a re-delivered event harmless.
/// </summary>
public sealed class StageEventHandler(RunStateStore runs, JobQueue jobs, IEnumerable<IStepPerformer> performers, TimeProvider clock)
    : IIntegrationEventHandler
{
    private readonly HashSet<StepKind> _kinds = performers.Select(p => p.Kind).ToHashSet();

    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        if (envelope.RunId is not { } runId) return;
        var tx = context.Transaction;
        if (envelope.Type != EventTypes.NameOf<RunStarted>()) await runs.TouchAsync(tx, runId, envelope.Type, ct);
        switch (envelope.Event())
        {
            case RunStarted started:
                await runs.StartAsync(tx, runId, started, ct);
                break;
            case RunFinished finished:
                await runs.EndAsync(tx, runId, finished.Outcome, ct);
                await jobs.CancelRunAsync(tx, runId, ct);
                return;
            case ApprovalGranted granted:
                await runs.RecordApprovalAsync(tx, runId, granted.Environment, "granted", ct);
                break;
            case IStepFinishedEvent finished:
                // A rollout reports each of its stages; the deploy step is done when the plan's last rollout stage is.
                if (finished is DeploySucceeded deployed && !await IsLastRolloutStageAsync(context, runId, deployed, ct)) return;
                var outcome = StepEventKinds.Of(finished).Phase == StepEventKinds.Phase.Succeeded ? StepOutcome.Succeeded : StepOutcome.Failed;
                var record = new StepRecord(outcome, finished.Attempt, finished.DurationMs, envelope.Data.Clone());
                await runs.RecordStepAsync(tx, runId, finished.Step, record, ct);
                if (await EndIfSettledAsync(context, runId, ct)) return;
                break;
        }

        await ScheduleDueStepsAsync(context.Transaction, runId, ct);
    }

    /// <summary>
    /// Records a run this service itself planned and schedules its own first steps, in the transaction that writes the
    /// run's <c>run.started</c> to the outbox: the first build need not wait for that event's trip through Kafka. When the
    /// event comes back, <see cref="HandleAsync"/> finds the run recorded and the jobs there (same dedupe keys): no effect twice.
    /// </summary>
    public async Task StartPlannedRunAsync(NpgsqlTransaction tx, string runId, RunStarted started, CancellationToken ct)
    {
        await runs.StartAsync(tx, runId, started, ct);
        await ScheduleDueStepsAsync(tx, runId, ct);
    }

    /// <summary>
    /// A run in which nothing can start any more is ended by the service that finished its last step; two services that
    /// finish parallel branches' last steps at once each see the other's still open. So a service that sees a run settle
    /// on another's event checks again a little later (<see cref="RunSettleJobHandler"/>; <c>run.finished</c> cancels it).
    /// </summary>
    private async Task<bool> EndIfSettledAsync(MessageContext context, string runId, CancellationToken ct)
    {
        if (_kinds.Count == 0) return false;
        var run = await runs.GetAsync(context.Transaction, runId, ct);
        if (run is null || run.Outcome is not null || !run.Settled) return false;
        await jobs.EnqueueAsync(context.Transaction, RunSettleJobHandler.For(runId, clock.GetUtcNow()), ct);
        return true;
    }

    private async Task<bool> IsLastRolloutStageAsync(MessageContext context, string runId, DeploySucceeded deployed, CancellationToken ct)
    {
        var run = await runs.GetAsync(context.Transaction, runId, ct);
        var last = run?.Progress.Find(deployed.Step)?.Step.Deploy?.Rollout is { Count: > 0 } phases ? phases[^1].Stage : RolloutStage.Full;
        return deployed.RolloutStage == last;
    }

    private async Task ScheduleDueStepsAsync(NpgsqlTransaction tx, string runId, CancellationToken ct)
    {
        if (_kinds.Count == 0) return;
        var run = await runs.GetAsync(tx, runId, ct);
        if (run is null || run.Outcome is not null) return;
        foreach (var (_, step) in run.Due)
        {
            if (!_kinds.Contains(step.Kind)) continue;
            // A step that needs approval (a deploy or promote into such an environment) is scheduled twice: once to ask,
            // once more after every approval it needs.
            var approvals = step.EnvironmentsNeedingApproval();
            var phase = approvals.Count == 0 ? "" : approvals.All(run.Approved) ? ":approved" : ":awaiting";
            // A build the planner refused fails only once the run's other branches have finished (Jenkins' parallel
            // runs every branch to its end): it is asked again each time another step finishes.
            if (step.Build?.Refusal is not null) phase = $":after-{run.Steps.Count}";
            await jobs.EnqueueAsync(tx, StepJob.For(runId, step.Name, phase), ct);
        }
    }
}

/// <summary>The job that performs one step of a run.</summary>
public static class StepJob
{
    public const string Kind = "step";

    public sealed record Payload(string RunId, string Step);

    public static NewJob For(string runId, string step, string phase = "") =>
        new(Kind, $"step:{runId}:{step}{phase}", JsonSerializer.Serialize(new Payload(runId, step), ContractJson.Options), runId,
            MaxAttempts: 3);
}
