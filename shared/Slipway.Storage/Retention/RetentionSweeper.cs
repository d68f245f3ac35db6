using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Slipway.Storage.Retention;

/// <summary>
/// Prunes the service's bookkeeping tables on a schedule, so they stop growing: each <see cref="RetentionRule"/>'s rows
/// older than <see cref="RetentionOptions.Window"/>, in small batches. Every instance may prune; deletes of the same
/// rows by two instances are harmless.
/// </summary>
public sealed class RetentionSweeper(
    IEnumerable<RetentionRule> rules,
    NpgsqlDataSource dataSource,
    IOptions<RetentionOptions> options,
    ILogger<RetentionSweeper> logger) : BackgroundService
{
    private static readonly Meter Meter = new("Slipway.Retention");
    private static readonly Counter<long> Pruned = Meter.CreateCounter<long>("slipway.retention.pruned");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        // A short pause first: start-up (migrations, consumers) goes ahead of housekeeping.
        var wait = TimeSpan.FromSeconds(Math.Min(5, o.Interval.TotalSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, stoppingToken);
                await PruneOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning("retention prune failed ({Error}); trying again in {Interval}", e.Message, o.Interval);
            }
            wait = o.Interval;
        }
    }

    /// <summary>Deletes every rule's rows older than the window; returns how many went.</summary>
    public async Task<long> PruneOnceAsync(CancellationToken ct)
    {
        var o = options.Value;
        var cutoff = DateTimeOffset.UtcNow - o.Window;
        long total = 0;
        foreach (var rule in rules)
        {
            long pruned = 0;
            int n;
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            do
            {
                n = await conn.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {rule.Table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {rule.Table} WHERE {rule.Condition} LIMIT @batch))",
                    new { cutoff, batch = o.BatchSize }, cancellationToken: ct));
                pruned += n;
            } while (n == o.BatchSize && !ct.IsCancellationRequested);
            if (pruned > 0)
            {
                Pruned.Add(pruned, new KeyValuePair<string, object?>("table", rule.Name));
                logger.LogInformation("retention: pruned {Count} rows of {Table} older than {Cutoff:u}", pruned, rule.Name, cutoff);
            }
            total += pruned;
        }
        return total;
    }
}
