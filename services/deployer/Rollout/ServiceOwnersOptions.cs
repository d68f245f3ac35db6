using Slipway.Pipeline.Planning;
using Slipway.Hosting;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// <c>Pipeline:ServiceOwners:&lt;service&gt;</c> (the same key the builder plans with): the deployer checks again, before it
/// writes or rolls out anything, that a run's project owns the service (defence in depth behind the planner).
/// </summary>
public sealed class ServiceOwnersOptions : IValidatableOptions
{
    public const string Section = "Pipeline";

    public Dictionary<string, string> ServiceOwners { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Why the run's project may not touch the service, or null.</summary>
    public string? Refusal(string project, string service) =>
        ServiceOwnership.Refusal(project, service, ServiceOwners, "service");

    public IEnumerable<string> Validate()
    {
        foreach (var (service, project) in ServiceOwners)
            if (string.IsNullOrWhiteSpace(project)) yield return $"Pipeline:ServiceOwners:{service} must name a Gerrit project";
    }
}
