using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Runs;

/// <summary>
/// Ends a run that no service ended although nothing of it can start any more. The service that finishes a run's last
/// step ends it; but when two services finish the last steps of parallel branches at once, each sees the other's still
/// open. Every stage service that sees a run settle schedules this check a little later; <c>run.finished</c> cancels
/// it (a run's end cancels its jobs), so it acts only in that race, and the run's one <c>run.finished</c> id makes a
/// second emitter harmless.
/// </summary>
public sealed class RunSettleJobHandler(RunStateStore runs, JobQueue jobs, Outbox outbox, RunEventFactory events,
    TimeProvider clock, ILogger<RunSettleJobHandler> logger) : IJobHandler
{
    public const string JobKind = "run-settle";

    /// <summary>How long the service that finished the last step has to end the run before the others do.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public string Kind => JobKind;

    public static NewJob For(string runId, DateTimeOffset now) =>
        new(JobKind, $"settle:{runId}", JsonSerializer.Serialize(new StepJob.Payload(runId, ""), ContractJson.Options), runId,
            NotBefore: now + Grace);

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var runId = JsonSerializer.Deserialize<StepJob.Payload>(job.Payload, ContractJson.Options)!.RunId;
        await completion.CommitAsync(tx => EndIfSettledAsync(tx, runId, ct), ct: CancellationToken.None);
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct) => Task.CompletedTask;

    /// <summary>The run's row before the job's: its events' handlers lock the run first, then its jobs.</summary>
    public Task LockFirstAsync(LeasedJob job, NpgsqlTransaction tx, CancellationToken ct) =>
        runs.LockAsync(tx, job.RunId ?? JsonSerializer.Deserialize<StepJob.Payload>(job.Payload, ContractJson.Options)!.RunId, ct);

    private async Task EndIfSettledAsync(NpgsqlTransaction tx, string runId, CancellationToken ct)
    {
        var run = await runs.GetAsync(tx, runId, ct);
        if (run is null || run.Outcome is not null || !run.Settled) return;
        var finished = RunFinishedFactory.Settled(run, clock.GetUtcNow());
        if (!await runs.EndAsync(tx, runId, finished.Outcome, ct)) return;
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, finished), ct);
        await jobs.CancelRunAsync(tx, runId, ct);
        logger.LogInformation("run {RunId} ended {Outcome}: its last steps finished in two services at once", runId, finished.Outcome);
    }
}
