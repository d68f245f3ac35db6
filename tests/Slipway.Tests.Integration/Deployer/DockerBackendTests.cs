using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Backends.Docker;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// The docker backend against the real engine: staged rollout, a failing version, rollback. Each test uses its
/// own environment name and removes every container of it afterwards, pass or fail.
/// </summary>
public sealed class DockerBackendTests(DeployerImagesFixture images) : IClassFixture<DeployerImagesFixture>, IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly string _environment = "t" + Guid.NewGuid().ToString("N")[..10];
    private DockerBackend _backend = null!;
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    public Task InitializeAsync()
    {
        _backend = new DockerBackend(images.DockerOptions, new DockerBackendOptions { StopTimeout = TimeSpan.FromSeconds(3) },
            images.Registry, NullLogger<DockerBackend>.Instance);
        return Task.CompletedTask;
    }

    private DeploymentSpec Spec(string image, int replicas = 3) => new(_environment, "hello", image, replicas, 8080, "/readyz", "/healthz",
        new Dictionary<string, string> { ["GREETING"] = "hi" }, 64L * 1024 * 1024, 0.5);

    [Fact]
    public async Task Staged_rollout_moves_one_then_half_then_all_instances_and_a_version_that_never_gets_ready_is_refused()
    {
        var ct = CancellationToken.None;
        var v1 = Spec(images.V1);
        var v2 = Spec(images.V2);

        // v1, full, 3 replicas: the image is pulled from the registry and 3 containers answer on 127.0.0.1.
        var full1 = await _backend.ApplyAsync(v1, null, RolloutStage.Full, 100, ReadyTimeout, ct);
        Assert.True(full1.Healthy, full1.Reason);
        Assert.Equal(["v1", "v1", "v1"], await VersionsAsync(full1.Instances));
        Assert.All(full1.Instances, i => Assert.StartsWith("http://127.0.0.1:", i.Endpoint));
        Assert.Equal([$"slipway-{_environment}-hello-0", $"slipway-{_environment}-hello-1", $"slipway-{_environment}-hello-2"], full1.Instances.Select(i => i.Name));
        await AssertContainerSettingsAsync(v1);

        // Canary: exactly one instance on v2.
        var canary = await _backend.ApplyAsync(v2, v1, RolloutStage.Canary, 10, ReadyTimeout, ct);
        Assert.True(canary.Healthy, canary.Reason);
        Assert.Equal(["v2", "v1", "v1"], await VersionsAsync(canary.Instances));
        Assert.Equal(1, canary.Instances.Count(i => i.Image == images.V2));

        // Partial 50%: ceil(1.5) = 2 instances on v2.
        var partial = await _backend.ApplyAsync(v2, v1, RolloutStage.Partial, 50, ReadyTimeout, ct);
        Assert.True(partial.Healthy, partial.Reason);
        Assert.Equal(["v2", "v2", "v1"], await VersionsAsync(partial.Instances));

        // Full: all on v2.
        var full2 = await _backend.ApplyAsync(v2, v1, RolloutStage.Full, 100, ReadyTimeout, ct);
        Assert.True(full2.Healthy, full2.Reason);
        Assert.Equal(["v2", "v2", "v2"], await VersionsAsync(full2.Instances));

        // Repeating a stage (a redelivered event) replaces nothing.
        var before = await ContainerIdsAsync();
        var repeat = await _backend.ApplyAsync(v2, v1, RolloutStage.Full, 100, ReadyTimeout, ct);
        Assert.True(repeat.Healthy, repeat.Reason);
        Assert.Equal(before, await ContainerIdsAsync());

        // v3 never gets ready: the canary fails with a reason, the candidate is gone, the old instances still serve.
        var v3 = Spec(images.V3);
        var failed = await _backend.ApplyAsync(v3, v2, RolloutStage.Canary, 10, TimeSpan.FromSeconds(4), ct);
        Assert.False(failed.Healthy);
        Assert.StartsWith("instance 0 not ready after ", failed.Reason);
        Assert.Contains("GET /readyz -> 503", failed.Reason);
        Assert.Contains("warming up forever", failed.Reason);
        Assert.Equal(["v2", "v2", "v2"], await VersionsAsync(failed.Instances));
        Assert.Equal(before, await ContainerIdsAsync());
        Assert.All(await _backend.StatusAsync(_environment, "hello", ct), i => Assert.True(i.Ready, i.Name));

        // Rollback restores every instance to v1.
        var rolledBack = await _backend.RollbackAsync(v2, v1, ReadyTimeout, ct);
        Assert.True(rolledBack.Healthy, rolledBack.Reason);
        Assert.Equal(["v1", "v1", "v1"], await VersionsAsync(rolledBack.Instances));
        Assert.Equal(3, (await ContainerIdsAsync()).Count);
    }

    [Fact]
    public async Task Scaling_down_on_full_removes_extra_instances_and_rollback_with_no_previous_removes_the_service()
    {
        var ct = CancellationToken.None;
        Assert.True((await _backend.ApplyAsync(Spec(images.V1, replicas: 2), null, RolloutStage.Full, 100, ReadyTimeout, ct)).Healthy);

        var one = await _backend.ApplyAsync(Spec(images.V2, replicas: 1), Spec(images.V1, replicas: 2), RolloutStage.Full, 100, ReadyTimeout, ct);
        Assert.True(one.Healthy, one.Reason);
        Assert.Equal(["v2"], await VersionsAsync(one.Instances));

        var removed = await _backend.RollbackAsync(Spec(images.V2, replicas: 1), null, ReadyTimeout, ct);
        Assert.True(removed.Healthy);
        Assert.Empty(await _backend.StatusAsync(_environment, "hello", ct));
        Assert.Empty(await ContainerIdsAsync());
    }

    [Fact]
    public async Task A_first_deployment_that_never_gets_ready_leaves_nothing_running()
    {
        var failed = await _backend.ApplyAsync(Spec(images.V3, replicas: 2), null, RolloutStage.Canary, 10, TimeSpan.FromSeconds(3), CancellationToken.None);

        Assert.False(failed.Healthy);
        Assert.Contains("GET /readyz -> 503", failed.Reason);
        Assert.Empty(failed.Instances);
        Assert.Empty(await ContainerIdsAsync());
    }

    private async Task<List<string>> VersionsAsync(IReadOnlyList<InstanceStatus> instances)
    {
        var versions = new List<string>();
        foreach (var instance in instances.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            Assert.NotNull(instance.Endpoint);
            Assert.StartsWith("http://127.0.0.1:", instance.Endpoint);
            versions.Add((await Http.GetStringAsync(instance.Endpoint + "/version")).Trim());
        }
        return versions;
    }

    private async Task AssertContainerSettingsAsync(DeploymentSpec spec)
    {
        var container = await images.Docker.Containers.InspectContainerAsync($"slipway-{_environment}-hello-0");
        Assert.Equal(RestartPolicyKind.UnlessStopped, container.HostConfig.RestartPolicy.Name);
        Assert.Equal(spec.MemoryBytes, container.HostConfig.Memory);
        Assert.Equal(500_000_000, container.HostConfig.NanoCPUs);
        Assert.Equal("127.0.0.1", container.HostConfig.PortBindings["8080/tcp"].Single().HostIP);
        Assert.Equal(_environment, container.Config.Labels["slipway.environment"]);
        Assert.Equal("hello", container.Config.Labels["slipway.service"]);
        Assert.Equal("0", container.Config.Labels["slipway.instance"]);
        Assert.Equal(spec.Image, container.Config.Labels["slipway.image"]);
        Assert.Contains("GREETING=hi", container.Config.Env);
    }

    private async Task<List<string>> ContainerIdsAsync() =>
        (await ListOwnAsync()).Select(c => c.ID).Order(StringComparer.Ordinal).ToList();

    private async Task<IList<ContainerListResponse>> ListOwnAsync() =>
        await images.Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"slipway.environment={_environment}"] = true },
            },
        });

    public async Task DisposeAsync()
    {
        foreach (var container in await ListOwnAsync())
        {
            try { await images.Docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }); }
            catch (DockerContainerNotFoundException) { }
        }
        _backend.Dispose();
    }
}
