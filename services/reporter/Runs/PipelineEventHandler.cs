using System.Text.Json;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Reporter.Comments;
using Slipway.Reporter.Environments;
using Slipway.Reporter.Mail;
using Slipway.Storage.Jobs;

namespace Slipway.Reporter.Runs;

/// <summary>
/// Follows each run through its pipeline events. A run's start and end each record one
/// comment job (keyed by the event id, so a re-delivered event records nothing new); the job
/// posts to Gerrit outside the Kafka handler, with retries. A <c>notify.requested</c> records one mail job the same way.
/// </summary>
public sealed class PipelineEventHandler(RunLedger ledger, JobQueue jobs, IOptions<ReporterOptions> options, EnvironmentEvents environments,
    RunDetails details, RunArtifactLedger artifacts, IOptions<MailOptions> mail)
    : IIntegrationEventHandler
{
    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        // Rollouts, rollbacks (also those of no run) and approvals: what runs where (the environments page).
        await environments.FollowAsync(envelope, context.Transaction, ct);
        if (envelope.RunId is not { } runId) return;
        var tx = context.Transaction;
        switch (envelope.Event())
        {
            case RunStarted started:
                await ledger.StartAsync(tx, runId, started, ct);
                await details.StartedAsync(tx, runId, started, envelope.TraceParent, ct);
                // A run refused at planning has no steps: no "step 1 of 0"; its finished comment gives the reason.
                if (started.Plan.Stages.Any(s => s.Steps.Count > 0))
                    await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Started, envelope.Id), ct);
                break;
            case RunFinished finished:
                await ledger.FinishAsync(tx, runId, finished, ct);
                await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Finished, envelope.Id), ct);
                break;
            case NotifyRequested notice when mail.Value.Enabled:
                // PipelineLib's notify mail, sent by a job outside this handler (one per event id, however often it comes).
                await jobs.EnqueueAsync(tx, NotifyMailJob.For(envelope.Id, runId, notice), ct);
                break;
            case IStepEvent step:
                await StepAsync(envelope, runId, step, context, ct);
                await details.ImageAsync(tx, runId, step, ct);
                await artifacts.RecordAsync(tx, runId, step, ct);
                break;
        }
    }

    // A step that ended without doing its work because a newer run's image was already there says why.
    private static string? SkipNote(IStepEvent step) => step switch
    {
        DeploySucceeded { SkipReason: { } reason } => "superseded: " + reason,
        PromoteSucceeded { Superseded: { Count: > 0 } skipped } => "superseded: " + string.Join("; ", skipped.Select(s => $"{s.Key}: {s.Value}")),
        _ => null,
    };

    private async Task StepAsync(EventEnvelope envelope, string runId, IStepEvent step, MessageContext context, CancellationToken ct)
    {
        var tx = context.Transaction;
        var finished = step as IStepFinishedEvent;
        var data = new StepEventData(step.Stage, step.Step, step.Attempt, step.StartedAt, finished?.FinishedAt, finished?.DurationMs,
            (step as IStepFailedEvent)?.Reason ?? SkipNote(step), (step as IStepOutputEvent)?.OutputTail);
        var (kind, phase) = StepEventKinds.Of(step);
        var state = phase switch { StepEventKinds.Phase.Started => "running", StepEventKinds.Phase.Succeeded => "succeeded", _ => "failed" };
        await ledger.StepAsync(tx, runId, JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString()), state, data, ct);
        var settings = options.Value;
        if (settings.ProgressComments && phase == StepEventKinds.Phase.Started
            && await ledger.ClaimProgressAsync(tx, runId, TimeSpan.FromSeconds(settings.ProgressMinIntervalSeconds), ct) is { } number)
            await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Progress, envelope.Id,
                new ProgressStep(number, $"{data.Stage}/{data.Step}")), ct);
    }
}
