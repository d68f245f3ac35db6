namespace Slipway.Deployer.Backends;

/// <summary>What a backend runs for one service in one environment (built from the configuration registry's values).</summary>
/// <param name="Environment">Environment name, e.g. <c>staging</c>.</param>
/// <param name="Service">Service name.</param>
/// <param name="Image">Image reference, pinned by digest (<c>repo@sha256:...</c>).</param>
/// <param name="Replicas">Number of instances.</param>
/// <param name="ContainerPort">Port the service listens on inside the container.</param>
/// <param name="ReadinessPath">HTTP path answering 2xx when the instance can take traffic.</param>
/// <param name="LivenessPath">HTTP path answering 2xx while the instance is alive.</param>
/// <param name="Env">Environment variables.</param>
/// <param name="MemoryBytes">Memory limit per instance, or null for none.</param>
/// <param name="Cpus">CPU limit per instance, or null for none.</param>
public sealed record DeploymentSpec(string Environment, string Service, string Image, int Replicas, int ContainerPort,
    string ReadinessPath, string LivenessPath, IReadOnlyDictionary<string, string> Env, long? MemoryBytes, double? Cpus);

/// <summary>One running (or failed) instance of a service.</summary>
/// <param name="Name">Backend name of the instance (container or pod name).</param>
/// <param name="Image">Image it runs.</param>
/// <param name="Ready">Whether it answered its readiness probe when last checked.</param>
/// <param name="Endpoint">Where it answers, e.g. <c>http://127.0.0.1:49153</c>, when known.</param>
public sealed record InstanceStatus(string Name, string Image, bool Ready, string? Endpoint);

/// <summary>The outcome of a rollout stage or a rollback.</summary>
/// <param name="Healthy">True when every instance the call moved is ready and alive.</param>
/// <param name="Reason">Why not, for humans (which instance, which probe, a log excerpt); null when healthy.</param>
/// <param name="Instances">The service's instances after the call.</param>
public sealed record RolloutResult(bool Healthy, string? Reason, IReadOnlyList<InstanceStatus> Instances);

/// <summary>
/// Where services run: <c>docker</c> (the embedded default) or <c>kubernetes</c>. The deployer drives the staged
/// rollout (canary, partial, full) and the rollback decisions; a backend only moves instances and checks health.
/// </summary>
public interface IDeploymentBackend
{
    /// <summary>Backend name as configured, e.g. <c>docker</c> or <c>kubernetes</c>.</summary>
    string Name { get; }

    /// Moves the given share of spec.Replicas instances to spec.Image (canary: exactly one instance; partial: ceil(percentage*replicas/100); full: all),
    /// leaving the others on `previous` (null when there was none). Waits for readiness and liveness of the new instances within `timeout`.
    Task<RolloutResult> ApplyAsync(DeploymentSpec spec, DeploymentSpec? previous, Slipway.Contracts.RolloutStage stage, int percentage, TimeSpan timeout, CancellationToken ct);

    /// Puts every instance back on `previous`, or removes the service when previous is null.
    Task<RolloutResult> RollbackAsync(DeploymentSpec failed, DeploymentSpec? previous, TimeSpan timeout, CancellationToken ct);

    /// <summary>The service's instances in the environment, as the backend sees them now.</summary>
    Task<IReadOnlyList<InstanceStatus>> StatusAsync(string environment, string service, CancellationToken ct);
}

/// <summary>The arguments every backend checks before a rollout stage.</summary>
public static class RolloutArguments
{
    /// <summary>Checks <paramref name="spec"/> and <paramref name="previous"/> with the backend's rules; previous must be the same service.</summary>
    public static void Check(DeploymentSpec spec, DeploymentSpec? previous, Action<DeploymentSpec> validate)
    {
        validate(spec);
        if (previous is null) return;
        validate(previous);
        if (previous.Environment != spec.Environment || previous.Service != spec.Service)
            throw new ArgumentException($"previous is {previous.Environment}/{previous.Service}, not {spec.Environment}/{spec.Service}", nameof(previous));
    }
}
