namespace Slipway.Deployer.Backends;
public sealed record DeploymentSpec(string Environment, string Service, string Image, int Replicas, int ContainerPort,
    string ReadinessPath, string LivenessPath, IReadOnlyDictionary<string, string> Env, long? MemoryBytes, double? Cpus);
public sealed record InstanceStatus(string Name, string Image, bool Ready, string? Endpoint);
public sealed record RolloutResult(bool Healthy, string? Reason, IReadOnlyList<InstanceStatus> Instances);
public interface IDeploymentBackend
{
    string Name { get; }
    Task<RolloutResult> ApplyAsync(DeploymentSpec spec, DeploymentSpec? previous, Slipway.Contracts.RolloutStage stage, int percentage, TimeSpan timeout, CancellationToken ct);
    Task<RolloutResult> RollbackAsync(DeploymentSpec failed, DeploymentSpec? previous, TimeSpan timeout, CancellationToken ct);
    Task<IReadOnlyList<InstanceStatus>> StatusAsync(string environment, string service, CancellationToken ct);
}
