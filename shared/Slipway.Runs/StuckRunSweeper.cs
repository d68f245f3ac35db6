using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Runs;

/// <summary>
/// Fails runs whose next event never came (it was dead-lettered, a service has a bug) after <see cref="RunOptions.StuckAfter"/>:
/// emits <c>run.finished</c> (failed, with the reason) like any failing step would, so the reporter posts the final
/// comment and vote and every service cancels the run's jobs. Exactly one service gives a run up: the one that performs the
/// step the run waits for (<see cref="OwnerKind"/>); the others leave it open until that <c>run.finished</c> reaches them. Among
/// that service's instances the run's row lock (<c>FOR UPDATE SKIP LOCKED</c>) and the once-only outcome pick one.
/// </summary>
public sealed class StuckRunSweeper(
    NpgsqlDataSource dataSource,
    RunStateStore runs,
    JobQueue jobs,
    Outbox outbox,
    RunEventFactory events,
    TimeProvider clock,
    IOptions<RunOptions> options,
    IEnumerable<IStepPerformer> performers,
    ILogger<StuckRunSweeper> logger) : BackgroundService
{
    private readonly HashSet<StepKind> _kinds = performers.Select(p => p.Kind).ToHashSet();

    private const int BatchSize = 100;
    private static readonly Meter Meter = new("Slipway.Runs");
    private static readonly Counter<long> FailedStuck = Meter.CreateCounter<long>("slipway.runs.failed_stuck");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(o.StuckCheckInterval, stoppingToken);
                await FailStuckRunsAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning("checking for stuck runs failed ({Error}); trying again in {Interval}", e.Message, o.StuckCheckInterval);
            }
        }
    }

    /// <summary>Fails the open runs of this service's steps that waited too long for their next event; returns how many it failed.</summary>
    public async Task<int> FailStuckRunsAsync(CancellationToken ct)
    {
        var failed = 0;
        (DateTimeOffset, string)? after = null;
        while (true)
        {
            var (looked, done, last) = await FailStuckBatchAsync(after, ct);
            failed += done;
            if (looked < BatchSize || last is null) return failed;
            after = last; // runs of other services' steps stay open: page past them
        }
    }

    private async Task<(int Looked, int Failed, (DateTimeOffset, string)? Last)> FailStuckBatchAsync((DateTimeOffset, string)? after,
        CancellationToken ct)
    {
        var o = options.Value;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var stuck = await runs.StuckRunsAsync(tx, o.StuckAfter, o.AwaitingApprovalStuckAfter, EventTypes.NameOf<ApprovalRequested>(),
            BatchSize, ct, after);
        var now = clock.GetUtcNow();
        var failed = 0;
        foreach (var (runId, lastEventAt, lastEventType) in stuck)
        {
            if (await runs.GetAsync(tx, runId, ct) is not { Outcome: null } run) continue;
            if (!_kinds.Contains(OwnerKind(run))) continue; // another service gives it up
            var waited = now - lastEventAt;
            // The step the run waits for: the first one due that has not finished.
            var due = run.Due;
            var (stage, step) = due.Count > 0 ? due[0] : default;
            var reason = $"no progress for {Describe(waited)}: the last event ({ShortType(lastEventType)}) came at " +
                $"{lastEventAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC and {(step is null ? "nothing followed" : $"{step.Name} never reported")}; the run was given up";
            var finished = RunFinishedFactory.Create(run, RunOutcome.Failed, now, stage?.Name, step?.Name, reason);
            if (!await runs.EndAsync(tx, runId, RunOutcome.Failed, ct)) continue;
            await outbox.AddPipelineEventAsync(tx, events.Create(runId, finished), ct);
            await jobs.CancelRunAsync(tx, runId, ct);
            FailedStuck.Add(1);
            failed++;
            logger.LogWarning("run {RunId} failed: {Reason}", runId, reason);
        }
        await tx.CommitAsync(ct);
        return (stuck.Count, failed, stuck.Count == 0 ? null : (stuck[^1].LastEventAt, stuck[^1].RunId));
    }

    /// <summary>
    /// The kind of step whose service gives a stuck run up: the step it waits for (the first due one), else its failed step (its
    /// run.finished was lost), else its last step (every step finished, the end was lost); a plan without steps is the builder's.
    /// Every stage service follows the same events, so they agree on it.
    /// </summary>
    public static StepKind OwnerKind(RunState run)
    {
        if (run.Due is [var (_, due), ..]) return due.Kind;
        var steps = run.Progress.Steps.Select(s => s.Step).ToList();
        if (steps.FirstOrDefault(s => run.Steps.GetValueOrDefault(s.Name)?.Outcome == StepOutcome.Failed) is { } failed) return failed.Kind;
        return steps.LastOrDefault()?.Kind ?? StepKind.Build;
    }

    private static string ShortType(string? type) =>
        type is null ? "run.started" : type.StartsWith("slipway.", StringComparison.Ordinal) && type.EndsWith(".v1", StringComparison.Ordinal)
            ? type["slipway.".Length..^".v1".Length] : type;

    private static string Describe(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m" : $"{(int)t.TotalMinutes}m";
}
