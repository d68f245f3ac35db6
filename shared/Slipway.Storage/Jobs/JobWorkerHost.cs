using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Slipway.Storage.Jobs;

/// <summary>
/// Runs a bounded number of executors, each leasing one job at a time from the service's job
/// table, renewing the lease while the handler works. A crashed worker's lease expires and
/// another worker (of any instance) retries the job; a job that keeps failing ends after
/// its attempts with <see cref="IJobHandler.OnGaveUpAsync"/>.
/// </summary>
public sealed class JobWorkerHost(
    IEnumerable<IJobHandler> handlers,
    NpgsqlDataSource dataSource,
    JobQueue queue,
    IOptions<JobOptions> options,
    ILogger<JobWorkerHost> logger) : BackgroundService
{
    private static readonly Meter Meter = new("Slipway.Jobs");
    private static readonly Counter<long> Started = Meter.CreateCounter<long>("slipway.jobs.started");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("slipway.jobs.retried");
    private static readonly Counter<long> GaveUp = Meter.CreateCounter<long>("slipway.jobs.gave_up");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("slipway.jobs.duration", "s");

    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);
    private readonly string _instance = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}"[..^20];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_handlers.Count == 0) return Task.CompletedTask;
        var o = options.Value;
        var executors = Enumerable.Range(0, o.Executors)
            .Select(i => Task.Run(() => RunExecutorAsync($"{_instance}#{i}", o, stoppingToken), CancellationToken.None));
        return Task.WhenAll(executors.Append(Task.Run(() => ListenAsync(o, stoppingToken), CancellationToken.None)));
    }

    // Idle executors sleep until a job is recorded (NOTIFY on commit) or the poll interval passes (delayed jobs, expired leases).
    private readonly SemaphoreSlim _wake = new(0);

    private async Task ListenAsync(JobOptions o, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await dataSource.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, _) => { if (_wake.CurrentCount < o.Executors) _wake.Release(); };
                await using (var listen = new NpgsqlCommand($"LISTEN {queue.Channel}", conn)) await listen.ExecuteNonQueryAsync(stoppingToken);
                while (!stoppingToken.IsCancellationRequested) await conn.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or IOException)
            {
                // Polling still works while Postgres is away; listen again once it is back.
                logger.LogDebug("job wake-up listener: {Message}", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    private async Task RunExecutorAsync(string owner, JobOptions o, CancellationToken stoppingToken)
    {
        var lease = TimeSpan.FromSeconds(o.LeaseSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            LeasedJob? job = null;
            try
            {
                var leasedAt = Stopwatch.GetElapsedTime(0);
                job = await queue.TryLeaseAsync(owner, lease, _handlers.Keys, stoppingToken);
                if (job is null)
                {
                    await _wake.WaitAsync(o.PollMilliseconds, stoppingToken);
                    continue;
                }
                await RunJobAsync(job, lease, new LeaseWatch(leasedAt), o, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogError(e, "job executor {Owner} failed on job {JobId}", owner, job?.Id);
                await Task.Delay(o.PollMilliseconds * 5, CancellationToken.None);
            }
        }
    }

    private async Task RunJobAsync(LeasedJob job, TimeSpan lease, LeaseWatch watch, JobOptions o, CancellationToken stoppingToken)
    {
        var handler = _handlers[job.Kind];
        if (job.Exhausted)
        {
            await GiveUpAsync(handler, job, $"gave up after {job.MaxAttempts} attempts (its worker kept stopping)", stoppingToken);
            return;
        }

        Started.Add(1, new KeyValuePair<string, object?>("kind", job.Kind));
        // The job's span continues the trace of the span that recorded it (the run's), so its logs carry the run's trace id.
        using var span = JobTelemetry.StartJob(job.Kind, job.TraceParent);
        span.SetTag("slipway.job.id", job.Id);
        span.SetTag("slipway.job.attempt", job.Attempts);
        if (job.RunId is not null) span.SetTag("slipway.run.id", job.RunId);
        logger.LogInformation("job {JobId} {Kind} attempt {Attempt}/{Max} started", job.Id, job.Kind, job.Attempts, job.MaxAttempts);
        var clock = Stopwatch.StartNew();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = RenewUntilDoneAsync(job, lease, work, watch);
        var completion = new JobCompletion(dataSource, queue, job, handler);
        try
        {
            await handler.ExecuteAsync(job, completion, work.Token);
            if (!completion.Committed)
                await completion.CommitAsync(_ => Task.CompletedTask, ct: CancellationToken.None);
            logger.LogInformation("job {JobId} {Kind} finished in {Seconds:F1}s", job.Id, job.Kind, clock.Elapsed.TotalSeconds);
        }
        catch (LeaseLostException e)
        {
            logger.LogWarning("{Message}", e.Message);
        }
        catch (Exception e) when (watch.IsLost)
        {
            // The work stopped because its lease is gone: whoever holds it now (or the next lease) does the job.
            logger.LogWarning("job {JobId} {Kind} attempt {Attempt} stopped: {Reason} ({Error})", job.Id, job.Kind, job.Attempts,
                watch.Reason, e.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the job back at once instead of waiting for the lease to expire.
            await queue.ReleaseForRetryAsync(job, "worker shut down", TimeSpan.Zero, CancellationToken.None);
        }
        catch (Exception e)
        {
            if (job.Attempts >= job.MaxAttempts)
            {
                await GiveUpAsync(handler, job, e.Message, CancellationToken.None);
            }
            else
            {
                var delay = TimeSpan.FromSeconds(o.RetryDelaySeconds * Math.Pow(2, job.Attempts - 1));
                Retried.Add(1, new KeyValuePair<string, object?>("kind", job.Kind));
                logger.LogWarning(e, "job {JobId} {Kind} attempt {Attempt} failed; retrying in {Delay}", job.Id, job.Kind, job.Attempts, delay);
                await queue.ReleaseForRetryAsync(job, e.Message, delay, CancellationToken.None);
            }
        }
        finally
        {
            await work.CancelAsync();
            await heartbeat;
            Duration.Record(clock.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("kind", job.Kind));
        }
    }

    private async Task GiveUpAsync(IJobHandler handler, LeasedJob job, string reason, CancellationToken ct)
    {
        GaveUp.Add(1, new KeyValuePair<string, object?>("kind", job.Kind));
        logger.LogError("job {JobId} {Kind} failed for good: {Reason}", job.Id, job.Kind, reason);
        var completion = new JobCompletion(dataSource, queue, job, handler);
        try
        {
            await completion.CommitAsync(tx => handler.OnGaveUpAsync(job, reason, tx, ct), succeeded: false, error: reason, ct);
        }
        catch (LeaseLostException e) { logger.LogWarning("{Message}", e.Message); }
    }

    /// <summary>
    /// Renews the lease every third of its length. A failed renewal (Postgres unreachable, an error) is retried
    /// soon after; only when the lease is lost (taken by another worker) or may have expired unrenewed does the
    /// work's token fire, so the handler stops before its next side effect and never runs beside a second worker.
    /// </summary>
    private async Task RenewUntilDoneAsync(LeasedJob job, TimeSpan lease, CancellationTokenSource work, LeaseWatch watch)
    {
        var retry = TimeSpan.FromMilliseconds(Math.Clamp(lease.TotalMilliseconds / 10, 50, 2000));
        // Work is stopped a quarter lease before the lease could expire, so a side effect already under way lands in time.
        var margin = lease / 4;
        // Counted from before the lease was taken, so the local clock never believes in a lease longer than the database's.
        var heldUntil = watch.LeasedAt + lease;
        var wait = lease / 3;
        try
        {
            while (!work.IsCancellationRequested)
            {
                await Task.Delay(wait, work.Token);
                var attemptedAt = Stopwatch.GetElapsedTime(0);
                // A renewal that hangs past the lease's end is as good as a failed one.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(work.Token);
                deadline.CancelAfter(Max(heldUntil - margin - attemptedAt, TimeSpan.FromMilliseconds(1)));
                try
                {
                    if (!await queue.RenewAsync(job, lease, deadline.Token))
                    {
                        watch.Lost("another worker owns it now");
                        logger.LogWarning("job {JobId} lease lost; stopping its work", job.Id);
                        await work.CancelAsync();
                        return;
                    }
                    heldUntil = attemptedAt + lease;
                    wait = lease / 3;
                }
                catch (Exception e) when (!work.IsCancellationRequested)
                {
                    if (Stopwatch.GetElapsedTime(0) + retry >= heldUntil - margin)
                    {
                        watch.Lost($"renewal failed until the lease expired ({e.Message})");
                        logger.LogWarning("job {JobId}: lease could not be renewed before it expired ({Error}); stopping its work", job.Id, e.Message);
                        await work.CancelAsync();
                        return;
                    }
                    logger.LogWarning("renewing the lease of job {JobId} failed ({Error}); retrying", job.Id, e.Message);
                    wait = retry;
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>When a job's lease was taken (on the local monotonic clock) and whether its worker has given it up as lost.</summary>
internal sealed class LeaseWatch(TimeSpan leasedAt)
{
    public TimeSpan LeasedAt { get; } = leasedAt;
    public string? Reason { get; private set; }
    public bool IsLost => Reason is not null;
    public void Lost(string reason) => Reason ??= reason;
}
