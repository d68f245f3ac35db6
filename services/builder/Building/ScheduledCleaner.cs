using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Slipway.Builder.Building;

/// <summary>
/// The builder's retention schedule: one cleaning pass soon after start, then one every <c>Retention:Interval</c>. A
/// failed pass is logged and tried again at the next, so one engine or database hiccup never stops the cleaning.
/// </summary>
public abstract class ScheduledCleaner(IOptions<LocalFileRetentionOptions> options, ILogger logger) : BackgroundService
{
    /// <summary>The retention settings as they are now.</summary>
    protected LocalFileRetentionOptions Settings => options.Value;

    /// <summary>What this cleaner removes, for its log line (e.g. "local images").</summary>
    protected abstract string What { get; }

    /// <summary>One pass: removes what is due.</summary>
    protected abstract Task CleanPassAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wait = TimeSpan.FromSeconds(Math.Min(5, options.Value.Interval.TotalSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, stoppingToken);
                await CleanPassAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning("cleaning {What} failed ({Error}); trying again in {Interval}", What, e.Message, options.Value.Interval);
            }
            wait = options.Value.Interval;
        }
    }
}
