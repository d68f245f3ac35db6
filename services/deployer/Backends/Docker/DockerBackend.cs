using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Containers;
using N = Slipway.Deployer.Backends.Docker.ContainerNaming;

namespace Slipway.Deployer.Backends.Docker;

/// <summary>
/// The embedded default backend: one container per environment, service and instance
/// (<c>slipway-&lt;env&gt;-&lt;service&gt;-&lt;i&gt;</c>), each publishing its port on 127.0.0.1 with an engine-assigned
/// host port. Instances are replaced one at a time: the new container starts beside the old one under a
/// temporary name, and only once it answers its readiness and liveness paths does the old one go and the new one
/// take its name. A new container that never gets ready is removed and the old one keeps serving.
/// Engine errors (the daemon down, say) are thrown; health failures are returned as <c>Healthy = false</c>.
/// </summary>
public sealed class DockerBackend : IDeploymentBackend, IDisposable
{
    // One rollout at a time per environment and service within the process: two would fight over instance names.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    private readonly IDockerClient _docker;
    private readonly bool _ownsClient;
    private readonly DockerBackendOptions _options;
    private readonly ILogger<DockerBackend> _logger;
    private readonly HttpProbe _probe;
    private readonly ImagePuller _puller;

    /// <summary>Talks to the engine at <see cref="DockerOptions.Endpoint"/>; pulls with <paramref name="registry"/>'s (read) credentials.</summary>
    public DockerBackend(DockerOptions docker, DockerBackendOptions options, RegistryOptions? registry, ILogger<DockerBackend> logger)
        : this(TracedDockerClient.Wrap(new DockerClientConfiguration(new Uri(docker.Endpoint)).CreateClient()), options, registry, logger) => _ownsClient = true;

    /// <summary>Uses a client the caller owns.</summary>
    public DockerBackend(IDockerClient docker, DockerBackendOptions options, RegistryOptions? registry, ILogger<DockerBackend> logger)
    {
        _docker = docker;
        _options = options;
        _logger = logger;
        _probe = new HttpProbe(options.ProbeRequestTimeout);
        _puller = new ImagePuller(docker, registry, options.PullTimeout, logger);
    }

    public string Name => "docker";

    /// <summary>
    /// Number of instances a stage moves to the new image: canary one, partial ceil(percentage × replicas / 100)
    /// (at least one), full all.
    /// </summary>
    public static int InstancesFor(RolloutStage stage, int percentage, int replicas) => stage switch
    {
        RolloutStage.Canary => Math.Min(1, replicas),
        RolloutStage.Partial => Math.Clamp((int)Math.Ceiling(Math.Clamp(percentage, 0, 100) * replicas / 100.0), 1, replicas),
        _ => replicas,
    };

    /// <inheritdoc/>
    /// <remarks>
    /// Instances 0..n-1 move to <paramref name="spec"/>; missing instances n..replicas-1 are started on
    /// <paramref name="previous"/>. <paramref name="timeout"/> bounds each instance's wait for readiness. Instances
    /// already running exactly this spec are only checked, so repeating a stage is cheap and changes nothing.
    /// </remarks>
    public async Task<RolloutResult> ApplyAsync(DeploymentSpec spec, DeploymentSpec? previous, RolloutStage stage, int percentage,
        TimeSpan timeout, CancellationToken ct)
    {
        RolloutArguments.Check(spec, previous, Validate);
        var moving = InstancesFor(stage, percentage, spec.Replicas);
        return await LockedAsync(spec.Environment, spec.Service, async () =>
        {
            _logger.LogInformation("Rolling out {Image} to {Service} in {Environment}: {Stage} ({Moving} of {Replicas} instances)",
                spec.Image, spec.Service, spec.Environment, stage, moving, spec.Replicas);
            await RemoveCandidatesAsync(spec.Environment, spec.Service, ct);
            if (await _puller.EnsureAsync(spec.Image, ct) is { } pullError)
                return await ResultAsync(spec.Environment, spec.Service, pullError, ct);

            var current = await InstancesAsync(spec.Environment, spec.Service, ct);
            for (var i = 0; i < moving; i++)
                if (await MoveInstanceAsync(spec, i, current.GetValueOrDefault(i), timeout, ct) is { } failure)
                    return await ResultAsync(spec.Environment, spec.Service, failure, ct);

            if (previous is not null)
                for (var i = moving; i < spec.Replicas; i++)
                {
                    if (current.GetValueOrDefault(i) is { State: "running" }) continue; // left as it is, on previous
                    if (await _puller.EnsureAsync(previous.Image, ct) is { } previousPull)
                        return await ResultAsync(spec.Environment, spec.Service, previousPull, ct);
                    if (await MoveInstanceAsync(previous, i, current.GetValueOrDefault(i), timeout, ct) is { } failure)
                        return await ResultAsync(spec.Environment, spec.Service, $"(previous image) {failure}", ct);
                }

            if (stage == RolloutStage.Full)
                foreach (var (index, extra) in current.Where(c => c.Key >= spec.Replicas))
                {
                    _logger.LogInformation("Removing extra instance {Index} of {Service} in {Environment}", index, spec.Service, spec.Environment);
                    await StopAndRemoveAsync(extra.ID, ct);
                }
            return await ResultAsync(spec.Environment, spec.Service, null, ct);
        }, ct);
    }

    /// <inheritdoc/>
    public async Task<RolloutResult> RollbackAsync(DeploymentSpec failed, DeploymentSpec? previous, TimeSpan timeout, CancellationToken ct)
    {
        Validate(failed);
        if (previous is not null)
        {
            _logger.LogWarning("Rolling {Service} in {Environment} back from {Failed} to {Previous}", failed.Service, failed.Environment, failed.Image, previous.Image);
            return await ApplyAsync(previous, null, RolloutStage.Full, 100, timeout, ct);
        }
        return await LockedAsync(failed.Environment, failed.Service, async () =>
        {
            _logger.LogWarning("Removing {Service} from {Environment}: no earlier version to roll back to", failed.Service, failed.Environment);
            foreach (var container in await ListAsync(failed.Environment, failed.Service, ct))
                await StopAndRemoveAsync(container.ID, ct);
            return new RolloutResult(true, null, []);
        }, ct);
    }

    /// <inheritdoc/>
    /// <remarks>Ready is one readiness request per running instance, made now.</remarks>
    public async Task<IReadOnlyList<InstanceStatus>> StatusAsync(string environment, string service, CancellationToken ct)
    {
        var statuses = new List<InstanceStatus>();
        foreach (var (index, container) in (await InstancesAsync(environment, service, ct)).OrderBy(c => c.Key))
        {
            var endpoint = EndpointOf(container);
            var ready = container.State == "running" && endpoint is not null
                && container.Labels.TryGetValue(N.Readiness, out var path)
                && await _probe.CheckAsync(endpoint, path, ct) is null;
            statuses.Add(new InstanceStatus(N.InstanceName(environment, service, index), Label(container, N.Image) ?? container.Image, ready, endpoint));
        }
        return statuses;
    }

    /// <summary>Puts instance <paramref name="index"/> on <paramref name="spec"/>; null when done and ready, else why not.</summary>
    private async Task<string?> MoveInstanceAsync(DeploymentSpec spec, int index, ContainerListResponse? existing, TimeSpan timeout, CancellationToken ct)
    {
        var hash = N.Hash(spec);
        if (existing is { State: "running" } && Label(existing, N.SpecHash) == hash && EndpointOf(existing) is { } endpoint
            && await WaitReadyAsync(existing.ID, endpoint, spec, TimeSpan.FromTicks(Math.Min(timeout.Ticks, _options.ProbeRequestTimeout.Ticks * 3)), ct) is null)
            return null; // already there and healthy

        var candidateName = N.CandidateName(spec.Environment, spec.Service, index);
        var created = await _docker.Containers.CreateContainerAsync(CreateParameters(spec, index, hash, candidateName), ct);
        var started = DateTimeOffset.UtcNow;
        var removed = false;
        try
        {
            try { await _docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), ct); }
            catch (DockerApiException e)
            {
                // A bad entry point or user in the image is the image's failure, not the engine's: report it, do not throw.
                await StopAndRemoveAsync(created.ID, ct, graceful: false);
                removed = true;
                return $"instance {index} could not start: {e.ResponseBody?.Trim() ?? e.Message}";
            }
            var inspected = await _docker.Containers.InspectContainerAsync(created.ID, ct);
            var newEndpoint = EndpointOf(inspected, spec.ContainerPort)
                ?? throw new InvalidOperationException($"the engine published no host port for {candidateName}");
            if (await WaitReadyAsync(created.ID, newEndpoint, spec, timeout, ct) is { } notReady)
            {
                var log = await LogTailAsync(created.ID, ct);
                await StopAndRemoveAsync(created.ID, ct, graceful: false);
                removed = true;
                return $"instance {index} not ready after {(DateTimeOffset.UtcNow - started).TotalSeconds:0}s: {notReady}" +
                       (log.Length > 0 ? $"; container log: {log}" : "");
            }
        }
        catch when (!removed)
        {
            await StopAndRemoveAsync(created.ID, CancellationToken.None, graceful: false); // never leave a half-started candidate
            throw;
        }

        if (existing is not null) await StopAndRemoveAsync(existing.ID, ct);
        await _docker.Containers.RenameContainerAsync(created.ID, new ContainerRenameParameters { NewName = N.InstanceName(spec.Environment, spec.Service, index) }, ct);
        _logger.LogInformation("Instance {Index} of {Service} in {Environment} now runs {Image}", index, spec.Service, spec.Environment, spec.Image);
        return null;
    }

    /// <summary>Polls until both probe paths answer 2xx; null when ready, else the last failure seen.</summary>
    private async Task<string?> WaitReadyAsync(string containerId, string endpoint, DeploymentSpec spec, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var last = "not checked yet";
        while (true)
        {
            var state = (await _docker.Containers.InspectContainerAsync(containerId, ct)).State;
            if (!state.Running)
                return $"container exited with code {state.ExitCode}{(string.IsNullOrEmpty(state.Error) ? "" : $" ({state.Error})")}{(state.OOMKilled ? " (out of memory)" : "")}";
            last = await _probe.CheckAsync(endpoint, spec.ReadinessPath, ct) ?? await _probe.CheckAsync(endpoint, spec.LivenessPath, ct) ?? "";
            if (last.Length == 0) return null;
            if (DateTimeOffset.UtcNow + _options.ProbeInterval > deadline) return last;
            await Task.Delay(_options.ProbeInterval, ct);
        }
    }

    private CreateContainerParameters CreateParameters(DeploymentSpec spec, int index, string hash, string name)
    {
        var port = $"{spec.ContainerPort}/tcp";
        var labels = new Dictionary<string, string>
        {
            [N.ManagedBy] = "slipway-deployer",
            [N.Environment] = spec.Environment,
            [N.Service] = spec.Service,
            [N.Instance] = index.ToString(CultureInfo.InvariantCulture),
            [N.Image] = spec.Image,
            [N.Port] = spec.ContainerPort.ToString(CultureInfo.InvariantCulture),
            [N.SpecHash] = hash,
            [N.Readiness] = spec.ReadinessPath,
        };
        if (_options.Owner is { } owner) labels[N.Owner] = owner;
        return new CreateContainerParameters
        {
            Name = name,
            Image = spec.Image,
            Env = spec.Env.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            ExposedPorts = new Dictionary<string, EmptyStruct> { [port] = default },
            Labels = labels,
            HostConfig = new HostConfig
            {
                // Empty HostPort: the engine picks a free one, so instances never collide.
                PortBindings = new Dictionary<string, IList<PortBinding>> { [port] = [new PortBinding { HostIP = _options.HostIp, HostPort = "" }] },
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.UnlessStopped },
                Memory = spec.MemoryBytes ?? 0,
                NanoCPUs = spec.Cpus is { } cpus ? (long)(cpus * 1e9) : 0,
                PidsLimit = _options.PidsLimit,
                SecurityOpt = ["no-new-privileges"],
            },
        };
    }

    private async Task<RolloutResult> ResultAsync(string environment, string service, string? failure, CancellationToken ct)
    {
        if (failure is not null) _logger.LogWarning("Rollout of {Service} in {Environment} failed: {Reason}", service, environment, failure);
        return new RolloutResult(failure is null, failure, await StatusAsync(environment, service, ct));
    }

    /// <summary>The service's final-named instances by index (candidates and foreign containers excluded).</summary>
    private async Task<Dictionary<int, ContainerListResponse>> InstancesAsync(string environment, string service, CancellationToken ct)
    {
        var instances = new Dictionary<int, ContainerListResponse>();
        foreach (var container in await ListAsync(environment, service, ct))
            if (int.TryParse(Label(container, N.Instance), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && container.Names.Any(n => n.TrimStart('/') == N.InstanceName(environment, service, index)))
                instances[index] = container;
        return instances;
    }

    private async Task<IList<ContainerListResponse>> ListAsync(string environment, string service, CancellationToken ct) =>
        await _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{N.ManagedBy}=slipway-deployer"] = true,
                    [$"{N.Environment}={environment}"] = true,
                    [$"{N.Service}={service}"] = true,
                },
            },
        }, ct);

    /// <summary>Leftover candidates of an interrupted rollout (a crash between start and rename).</summary>
    private async Task RemoveCandidatesAsync(string environment, string service, CancellationToken ct)
    {
        foreach (var container in await ListAsync(environment, service, ct))
            if (container.Names.All(n => n.EndsWith(N.CandidateSuffix, StringComparison.Ordinal)))
                await StopAndRemoveAsync(container.ID, ct, graceful: false);
    }

    private string? EndpointOf(ContainerListResponse container)
    {
        if (!int.TryParse(Label(container, N.Port), NumberStyles.None, CultureInfo.InvariantCulture, out var port)) return null;
        var published = container.Ports?.FirstOrDefault(p => p.PrivatePort == port && p.PublicPort != 0 && p.Type == "tcp" && p.IP == _options.HostIp);
        return published is null ? null : $"http://{_options.HostIp}:{published.PublicPort}";
    }

    private string? EndpointOf(ContainerInspectResponse container, int port) =>
        container.NetworkSettings?.Ports is { } ports && ports.TryGetValue($"{port}/tcp", out var bindings) && bindings?.FirstOrDefault(b => !string.IsNullOrEmpty(b.HostPort)) is { } binding
            ? $"http://{_options.HostIp}:{binding.HostPort}"
            : null;

    private async Task<string> LogTailAsync(string containerId, CancellationToken ct)
    {
        if (_options.LogTailLines == 0) return "";
        try
        {
            using var stream = await _docker.Containers.GetContainerLogsAsync(containerId, false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = _options.LogTailLines.ToString(CultureInfo.InvariantCulture) }, ct);
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(ct);
            var text = new StringBuilder(stdout).Append(stderr).ToString().ReplaceLineEndings(" | ").Trim(' ', '|');
            return text.Length <= 2000 ? text : "…" + text[^2000..];
        }
        catch (DockerApiException e)
        {
            return $"(log unavailable: {e.StatusCode})";
        }
    }

    private async Task StopAndRemoveAsync(string containerId, CancellationToken ct, bool graceful = true)
    {
        try
        {
            if (graceful)
                await _docker.Containers.StopContainerAsync(containerId,
                    new ContainerStopParameters { WaitBeforeKillSeconds = (uint)_options.StopTimeout.TotalSeconds }, ct);
            await _docker.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct);
        }
        catch (DockerContainerNotFoundException)
        {
            // already gone: the goal is reached
        }
    }

    private static string? Label(ContainerListResponse container, string key) =>
        container.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    private static void Validate(DeploymentSpec spec)
    {
        Config.ConfigRegistry.ValidateName("environment", spec.Environment);
        Config.ConfigRegistry.ValidateName("service", spec.Service);
        if (string.IsNullOrWhiteSpace(spec.Image)) throw new ArgumentException("spec.Image is required", nameof(spec));
        if (spec.Replicas is < 1 or > 100) throw new ArgumentException($"spec.Replicas {spec.Replicas} must be 1-100", nameof(spec));
        if (spec.ContainerPort is < 1 or > 65535) throw new ArgumentException($"spec.ContainerPort {spec.ContainerPort} must be 1-65535", nameof(spec));
        if (!spec.ReadinessPath.StartsWith('/') || !spec.LivenessPath.StartsWith('/'))
            throw new ArgumentException("probe paths must start with '/'", nameof(spec));
    }

    private static async Task<T> LockedAsync<T>(string environment, string service, Func<Task<T>> action, CancellationToken ct)
    {
        var gate = Locks.GetOrAdd($"{environment}/{service}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try { return await action(); }
        finally { gate.Release(); }
    }

    public void Dispose()
    {
        _probe.Dispose();
        if (_ownsClient) _docker.Dispose();
    }
}
