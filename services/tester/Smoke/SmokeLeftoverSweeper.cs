using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Tester.Testing;

namespace Slipway.Tester.Smoke;

/// <summary>
/// Removes what smoke steps of a tester that was killed left on the engine: containers and networks labelled as a
/// tester's smoke objects and older than <see cref="TesterOptions.SmokeLeftoverMinutes"/> (longer than any smoke step
/// lives, so a step still running — this tester's or another's on a shared engine — is never touched). Runs at start
/// and then every ten minutes.
/// </summary>
public sealed class SmokeLeftoverSweeper(IDockerClient docker, TesterOptions options, TimeProvider clock, ILogger<SmokeLeftoverSweeper> logger)
    : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMinutes(10);

    /// <summary>More <c>label=value</c> filters an object must match too (a test confines a sweep to its own objects).</summary>
    public IReadOnlyList<string> AlsoLabelled { get; init; } = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await SweepAsync(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) { logger.LogWarning(e, "Smoke leftover sweep failed; trying again in {Minutes} min", Every.TotalMinutes); }
            try { await Task.Delay(Every, clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One sweep; how many containers and networks it removed.</summary>
    public async Task<(int Containers, int Networks)> SweepAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - TimeSpan.FromMinutes(options.SmokeLeftoverMinutes);
        var labels = new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new[] { $"{TestRunner.ComponentLabel}=tester", "slipway.step-kind=smoke" }.Concat(AlsoLabelled).ToDictionary(l => l, _ => true),
        };
        var containers = 0;
        foreach (var c in await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = labels }, ct))
        {
            if (new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)) > before) continue;
            await TestRunner.RemoveQuietlyAsync(docker, c.ID, logger);
            containers++;
        }
        var networks = 0;
        foreach (var n in await docker.Networks.ListNetworksAsync(new NetworksListParameters { Filters = labels }, ct))
        {
            if (new DateTimeOffset(DateTime.SpecifyKind(n.Created, DateTimeKind.Utc)) > before) continue;
            if (await TestRunner.RemoveNetworkQuietlyAsync(docker, n.ID, logger)) networks++;
        }
        if (containers + networks > 0)
            logger.LogWarning("Removed {Containers} containers and {Networks} networks a stopped tester's smoke steps left behind", containers, networks);
        return (containers, networks);
    }
}
