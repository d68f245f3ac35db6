using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Builder.Triggers;
using Slipway.Contracts;
using Slipway.Gerrit;
using Slipway.Runs;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Builder.Runs;

/// <summary>
/// The builder's consumer: Gerrit events become runs (a plan job per trigger) or cancel superseded ones;
/// pipeline events go to the run tracking, which schedules the builds of each stage.
/// </summary>
public sealed class BuilderEventHandler(StageEventHandler stages, RunStateStore runs, ChangeRuns changeRuns, JobQueue jobs, Outbox outbox,
    RunEventFactory events,
    Workspaces workspaces, BuildAhead ahead, IOptionsMonitor<TriggerOptions> triggers, SlipwayAccounts slipway, TimeProvider clock,
    ILogger<BuilderEventHandler> logger)
    : IIntegrationEventHandler
{
    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        var e = envelope.Event();
        if (e is not GerritEvent gerrit)
        {
            await stages.HandleAsync(envelope, context, ct);
            // A build ahead is worth nothing once a step failed (its dependants will not run) or the run ended.
            if (e is IStepFailedEvent or RunFinished && envelope.RunId is { } stopped) ahead.Cancel(stopped);
            if (e is RunFinished && envelope.RunId is { } finished) workspaces.Remove(finished);
            if (e is RunStarted && envelope.RunId is { } started) await StopIfClosedAsync(context, started, ct);
            return;
        }

        if (gerrit.Type == "change-restored" && gerrit.Project is { } restoredProject && gerrit.ChangeNumber is { } restored)
            await changeRuns.RestoreAsync(context.Transaction, restoredProject, restored, ct);
        var rule = triggers.CurrentValue.For(gerrit.Project ?? "");
        foreach (var decision in TriggerRules.Decide(gerrit, envelope.Id, rule, slipway.Accounts))
        {
            switch (decision)
            {
                case TriggerDecision.Start start:
                    if (start.Trigger.Change is { } change)
                    {
                        if (await changeRuns.StopReasonAsync(context.Transaction, start.Trigger.Project, change, start.Trigger.Patchset, ct) is { } stopped)
                        {
                            logger.LogInformation("{Type} on {Project}~{Change} starts no run: {Why}", gerrit.Type, start.Trigger.Project, change, stopped);
                            break;
                        }
                        await changeRuns.AddAsync(context.Transaction, start.RunId, start.Trigger.Project, change, start.Trigger.Patchset, ct);
                    }
                    if (await EnqueuePlanAsync(context, start, ct))
                        logger.LogInformation("run {RunId}: {Kind} of {Project} {Ref} ({Revision})", start.RunId, start.Trigger.Kind,
                            start.Trigger.Project, start.Trigger.Ref, start.Trigger.Revision[..12]);
                    break;
                case TriggerDecision.CancelChange cancel:
                    await CancelAsync(context, cancel, ct);
                    break;
                case TriggerDecision.Ignore ignore:
                    logger.LogDebug("{Type} on {Project}: {Why}", gerrit.Type, gerrit.Project, ignore.Why);
                    break;
            }
        }
    }

    private async Task<bool> EnqueuePlanAsync(MessageContext context, TriggerDecision.Start start, CancellationToken ct) => start.Trigger.Kind switch
    {
        // A branch update waits a moment for the change-merged of the same commit; that one replaces it (same run id). A
        // new tag has no change-merged to wait for.
        TriggerKind.RefUpdate when start.Trigger.TagName() is null => await jobs.EnqueueAsync(context.Transaction,
            PlanRunJob.For(start.RunId, start.Trigger, clock.GetUtcNow() + PlanRunJob.BranchUpdateGrace), ct) is not null,
        TriggerKind.Merge => await jobs.EnqueueOrReplacePendingAsync(context.Transaction, PlanRunJob.For(start.RunId, start.Trigger), ct),
        _ => await jobs.EnqueueAsync(context.Transaction, PlanRunJob.For(start.RunId, start.Trigger), ct) is not null,
    };

    /// <summary>
    /// A run that starts after its change was abandoned or superseded (its plan was in flight, or it is one of several
    /// pipelines planned from one trigger) ends at once, cancelled, in the transaction that recorded its start.
    /// </summary>
    private async Task StopIfClosedAsync(MessageContext context, string runId, CancellationToken ct)
    {
        var tx = context.Transaction;
        var run = await runs.GetAsync(tx, runId, ct);
        if (run is null || run.Outcome is not null || run.Started.Trigger is not { Change: { } change } trigger) return;
        await changeRuns.AddAsync(tx, runId, trigger.Project, change, trigger.Patchset, ct);
        if (await changeRuns.StopReasonAsync(tx, trigger.Project, change, trigger.Patchset, ct) is not { } reason) return;
        await jobs.CancelRunAsync(tx, runId, ct);
        if (!await runs.EndAsync(tx, runId, RunOutcome.Cancelled, ct)) return;
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, RunFinishedFactory.Create(run, RunOutcome.Cancelled, clock.GetUtcNow(), reason: reason)), ct);
        logger.LogInformation("run {RunId}: cancelled as it started, {Reason}", runId, reason);
    }

    private async Task CancelAsync(MessageContext context, TriggerDecision.CancelChange cancel, CancellationToken ct)
    {
        var tx = context.Transaction;
        await changeRuns.StopAsync(tx, cancel.Project, cancel.Change, cancel.BelowPatchset, ct);
        foreach (var (runId, patchset) in await changeRuns.OfChangeAsync(tx, cancel.Project, cancel.Change, ct))
        {
            if (cancel.BelowPatchset is { } below && patchset is { } ps && ps >= below) continue;
            // Not started yet (still being planned): cancelling its plan job is enough, no run.started will follow.
            await jobs.CancelRunAsync(tx, runId, ct);
            var run = await runs.GetAsync(tx, runId, ct);
            if (run is null || !await runs.EndAsync(tx, runId, RunOutcome.Cancelled, ct)) continue;
            var finished = RunFinishedFactory.Create(run, RunOutcome.Cancelled, clock.GetUtcNow(), reason: cancel.Reason);
            await outbox.AddPipelineEventAsync(tx, events.Create(runId, finished), ct);
            logger.LogInformation("run {RunId}: cancelled, {Reason}", runId, cancel.Reason);
        }
    }
}
