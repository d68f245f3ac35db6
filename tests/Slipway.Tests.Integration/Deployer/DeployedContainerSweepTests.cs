using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Backends.Docker;
using Slipway.Embedded;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// The clean-up contract of deployed containers: a deployer with an owner (<c>Deployer:Docker:Owner</c>) labels every
/// container it creates, candidates included, and a sweep of the owner's prefix (what a test fixture and
/// <c>./slipway test</c> run once the deployer stopped) removes all of them, also those of a rollout cut off mid-way.
/// </summary>
public sealed class DeployedContainerSweepTests(DeployerImagesFixture images) : IClassFixture<DeployerImagesFixture>
{
    [Fact]
    public async Task A_sweep_of_the_owner_removes_the_instances_and_the_candidate_of_a_rollout_cut_off_mid_way()
    {
        var run = "sweep-" + Guid.NewGuid().ToString("N")[..10];
        var environment = "t" + Guid.NewGuid().ToString("N")[..10];
        var owner = $"{run}.{environment}";
        var backend = new DockerBackend(images.DockerOptions, new DockerBackendOptions { StopTimeout = TimeSpan.FromSeconds(3), Owner = owner },
            images.Registry, NullLogger<DockerBackend>.Instance);
        DeploymentSpec Spec(string image) => new(environment, "hello", image, 2, 8080, "/readyz", "/healthz",
            new Dictionary<string, string>(), 64L * 1024 * 1024, 0.5);
        try
        {
            var full = await backend.ApplyAsync(Spec(images.V1), null, RolloutStage.Full, 100, TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.True(full.Healthy, full.Reason);

            // A rollout of a version that never gets ready, cut off (a test's failure, a killed deployer) while its candidate waits.
            using var cut = new CancellationTokenSource();
            var rollout = backend.ApplyAsync(Spec(images.V3), Spec(images.V1), RolloutStage.Canary, 10, TimeSpan.FromMinutes(2), cut.Token);
            var candidate = ContainerNaming.CandidateName(environment, "hello", 0);
            for (var i = 0; i < 300 && !(await DeployedContainerSweep.NamesAsync(owner)).Contains(candidate); i++) await Task.Delay(100);
            Assert.Contains(candidate, await DeployedContainerSweep.NamesAsync(owner));
            await cut.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rollout);

            // The candidate carried the owner (seen above); the cancelled rollout may have removed it already, the sweep takes it if not.
            var swept = await DeployedContainerSweep.RemoveAsync(run);
            Assert.Contains(ContainerNaming.InstanceName(environment, "hello", 0), swept.Found);
            Assert.Contains(ContainerNaming.InstanceName(environment, "hello", 1), swept.Found);
            Assert.Empty(swept.Remaining);
            Assert.Empty(await EnvironmentContainers.ListAsync(images.Docker, environment));
        }
        finally
        {
            await EnvironmentContainers.RemoveAllAsync(images.Docker, environment);
        }
    }
}
