using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Slipway.Hosting.Lifetime;

/// <summary>
/// Stops the host gracefully (as SIGTERM would) once the process named by <see cref="ParentProcess"/> is gone, so services a
/// test host or `./slipway` started do not outlive it when it is killed.
/// </summary>
public sealed class ParentExitWatch(ParentProcess parent, IHostApplicationLifetime lifetime, ILogger<ParentExitWatch> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await parent.WaitForExitAsync(Interval, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return; // stopping anyway
        }
        log.LogWarning("parent process {Pid} is gone: stopping", parent.Pid);
        lifetime.StopApplication();
    }
}
