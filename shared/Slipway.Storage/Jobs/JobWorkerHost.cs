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
                job = await queue.TryLeaseAsync(owner, lease, _handlers.Keys, stoppingToken);
                if (job is null)
                {
                    await _wake.WaitAsync(o.PollMilliseconds, stoppingToken);
                    continue;
                }
                await RunJobAsync(job, lease, o, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogError(e, "job executor {Owner} failed on job {JobId}", owner, job?.Id);
                await Task.Delay(o.PollMilliseconds * 5, CancellationToken.None);
            }
        }
    }

    private async Task RunJobAsync(LeasedJob job, TimeSpan lease, JobOptions o, CancellationToken stoppingToken)
    {
        var handler = _handlers[job.Kind];
        if (job.Exhausted)
        {
            await GiveUpAsync(handler, job, $"gave up after {job.MaxAttempts} attempts (its worker kept stopping)", stoppingToken);
            return;
        }

        Started.Add(1, new KeyValuePair<string, object?>("kind", job.Kind));
        logger.LogInformation("job {JobId} {Kind} attempt {Attempt}/{Max} started", job.Id, job.Kind, job.Attempts, job.MaxAttempts);
        var clock = Stopwatch.StartNew();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = RenewUntilDoneAsync(job, lease, work);
        var completion = new JobCompletion(dataSource, queue, job);
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
        var completion = new JobCompletion(dataSource, queue, job);
        try
        {
            await completion.CommitAsync(tx => handler.OnGaveUpAsync(job, reason, tx, ct), succeeded: false, error: reason, ct);
        }
        catch (LeaseLostException e) { logger.LogWarning("{Message}", e.Message); }
    }

    private async Task RenewUntilDoneAsync(LeasedJob job, TimeSpan lease, CancellationTokenSource work)
    {
        try
        {
            while (!work.IsCancellationRequested)
            {
                await Task.Delay(lease / 3, work.Token);
                if (!await queue.RenewAsync(job, lease, work.Token))
                {
                    logger.LogWarning("job {JobId} lease lost; stopping its work", job.Id);
                    await work.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { logger.LogWarning(e, "renewing the lease of job {JobId} failed", job.Id); }
    }
}
