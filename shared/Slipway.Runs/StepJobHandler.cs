using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Runs;

/// <summary>
/// Leases step jobs and runs them with the service's <see cref="IStepPerformer"/>. The finishing event, the
/// step's record and, when the step ends the run, <c>run.finished</c> are committed with the job, fenced by
/// its lease: a worker that lost its lease emits nothing.
/// </summary>
public sealed class StepJobHandler(NpgsqlDataSource dataSource, RunStateStore runs, Outbox outbox, RunEventFactory events,
    IEnumerable<IStepPerformer> performers, TimeProvider clock, ILogger<StepJobHandler> logger) : IJobHandler
{
    private readonly Dictionary<StepKind, IStepPerformer> _performers = performers.ToDictionary(p => p.Kind);

    public string Kind => StepJob.Kind;

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<StepJob.Payload>(job.Payload, ContractJson.Options)!;
        if (await LoadAsync(payload.RunId, ct) is not { } run || run.Outcome is not null) return; // ended meanwhile: nothing to do
        if (run.Steps.GetValueOrDefault(payload.Step)?.Outcome == StepOutcome.Succeeded) return;
        if (run.Progress.Find(payload.Step) is not var (stage, step)) throw new InvalidOperationException($"run {run.RunId} has no step {payload.Step}");
        var performer = _performers[step.Kind];

        var execution = new StepExecution(run, stage, step, job.Attempts, clock.GetUtcNow(), clock,
            (data, discriminators) => EmitNowAsync(completion, run.RunId, data, discriminators, ct));
        logger.LogInformation("run {RunId}: {Step} ({Kind}) attempt {Attempt} starting", run.RunId, step.Name, step.Kind, job.Attempts);
        if (await performer.PerformAsync(execution, ct) is not StepResult.Finished result) return; // waiting
        await completion.CommitAsync(tx => RecordAsync(tx, execution, result.Outcome, result.FinishingEvent, ct),
            ct: CancellationToken.None);
        logger.LogInformation("run {RunId}: {Step} {Outcome}{Reason}", run.RunId, step.Name, result.Outcome,
            result.Reason is null ? "" : ": " + result.Reason);
    }

    public async Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<StepJob.Payload>(job.Payload, ContractJson.Options)!;
        var run = await runs.GetAsync(tx, payload.RunId, ct);
        if (run is null || run.Outcome is not null || run.Progress.Find(payload.Step) is not var (stage, step)) return;
        var execution = new StepExecution(run, stage, step, job.Attempts, clock.GetUtcNow(), clock, (_, _) => Task.CompletedTask);
        var failure = _performers[step.Kind].Failure(execution, reason);
        await RecordAsync(tx, execution, StepOutcome.Failed, failure, ct);
    }

    /// <summary>The run's row before the job's: its events' handlers lock the run first, then its jobs.</summary>
    public Task LockFirstAsync(LeasedJob job, NpgsqlTransaction tx, CancellationToken ct) =>
        runs.LockAsync(tx, job.RunId ?? JsonSerializer.Deserialize<StepJob.Payload>(job.Payload, ContractJson.Options)!.RunId, ct);

    private async Task RecordAsync(NpgsqlTransaction tx, StepExecution execution, StepOutcome outcome, IStepFinishedEvent finishing,
        CancellationToken ct)
    {
        var run = await runs.GetAsync(tx, execution.RunId, ct);
        if (run is null || run.Outcome is not null) return; // cancelled while it ran: its result no longer matters
        var step = execution.Step.Name;
        execution.EnsureHeader(finishing);
        await outbox.AddPipelineEventAsync(tx, events.Create(run.RunId, finishing, step, execution.Attempt.ToString()), ct);
        var data = JsonSerializer.SerializeToElement(finishing, finishing.GetType(), ContractJson.Options);
        var record = new StepRecord(outcome, execution.Attempt, finishing.DurationMs, data);
        await runs.RecordStepAsync(tx, run.RunId, step, record, ct);

        // PipelineLib's notify: a failed step of a stage with notify.email asks for the mail, once per run and stage.
        var steps = run.Steps.ToDictionary();
        steps[step] = record;
        var updated = run with { Steps = steps };
        if (outcome == StepOutcome.Failed && execution.Stage.Notify is { } notify && finishing is IStepFailedEvent failed)
        {
            var (to, subject, body) = NotifyText.Resolve(notify, updated);
            await outbox.AddPipelineEventAsync(tx, events.Create(run.RunId, new NotifyRequested
            {
                Pipeline = run.Started.Plan.Pipeline, Project = run.Started.Trigger.Project, Stage = execution.Stage.Name, Step = step,
                Reason = failed.Reason, To = to, Subject = subject, Body = body,
            }, execution.Stage.Name), ct);
        }
        // A failure ends the run only once nothing else can start or is running: the parallel branches that do not
        // depend on the failed step run to their end (Jenkins' parallel under PipelineLib).
        if (!updated.Settled) return;
        var finished = RunFinishedFactory.Settled(updated, clock.GetUtcNow());
        if (await runs.EndAsync(tx, run.RunId, finished.Outcome, ct))
            await outbox.AddPipelineEventAsync(tx, events.Create(run.RunId, finished), ct);
    }

    private async Task EmitNowAsync(JobCompletion completion, string runId, IPipelineEvent data, string[] discriminators, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // A worker that lost its lease emits nothing: the job's new owner speaks for the step.
        await completion.EnsureLeaseAsync(tx, ct);
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, data, discriminators), ct);
        await tx.CommitAsync(ct);
    }

    private async Task<RunState?> LoadAsync(string runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        return await runs.GetAsync(tx, runId, ct);
    }
}
