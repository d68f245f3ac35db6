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
/// comment and vote and every service cancels the run's jobs. Each stage service may do this for the same run; the
/// event's id is the run's one <c>run.finished</c> id, so consumers take the first and drop the rest.
/// </summary>
public sealed class StuckRunSweeper(
    NpgsqlDataSource dataSource,
    RunStateStore runs,
    JobQueue jobs,
    Outbox outbox,
    RunEventFactory events,
    TimeProvider clock,
    IOptions<RunOptions> options,
    ILogger<StuckRunSweeper> logger) : BackgroundService
{
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
                while (await FailStuckRunsAsync(stoppingToken) == BatchSize) { }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning("checking for stuck runs failed ({Error}); trying again in {Interval}", e.Message, o.StuckCheckInterval);
            }
        }
    }

    /// <summary>Fails the open runs that waited too long for their next event; returns how many it looked at.</summary>
    public async Task<int> FailStuckRunsAsync(CancellationToken ct)
    {
        var o = options.Value;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var stuck = await runs.StuckRunsAsync(tx, o.StuckAfter, o.AwaitingApprovalStuckAfter, EventTypes.NameOf<ApprovalRequested>(),
            BatchSize, ct);
        var now = clock.GetUtcNow();
        foreach (var (runId, lastEventAt, lastEventType) in stuck)
        {
            if (await runs.GetAsync(tx, runId, ct) is not { Outcome: null } run) continue;
            var waited = now - lastEventAt;
            // The step the run waits for: the first one due that has not finished.
            var ready = run.Progress.Ready(run.Succeeded);
            var (stage, step) = ready.Count > 0 ? ready[0] : default;
            var reason = $"no progress for {Describe(waited)}: the last event ({ShortType(lastEventType)}) came at " +
                $"{lastEventAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC and {(step is null ? "nothing followed" : $"{step.Name} never reported")}; the run was given up";
            var finished = RunFinishedFactory.Create(run, RunOutcome.Failed, now, stage?.Name, step?.Name, reason);
            if (!await runs.EndAsync(tx, runId, RunOutcome.Failed, ct)) continue;
            await outbox.AddPipelineEventAsync(tx, events.Create(runId, finished), ct);
            await jobs.CancelRunAsync(tx, runId, ct);
            FailedStuck.Add(1);
            logger.LogWarning("run {RunId} failed: {Reason}", runId, reason);
        }
        await tx.CommitAsync(ct);
        return stuck.Count;
    }

    private static string ShortType(string? type) =>
        type is null ? "run.started" : type.StartsWith("slipway.", StringComparison.Ordinal) && type.EndsWith(".v1", StringComparison.Ordinal)
            ? type["slipway.".Length..^".v1".Length] : type;

    private static string Describe(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m" : $"{(int)t.TotalMinutes}m";
}
