using System.Security.Cryptography;
using System.Text;

namespace Slipway.Deployer.Backends.Docker;

/// <summary>
/// Names and labels of the containers the docker backend owns. Labels, not names, are how instances are found,
/// so a container someone else named alike is never touched.
/// </summary>
public static class ContainerNaming
{
    public const string ManagedBy = "slipway.managed-by";
    public const string Environment = "slipway.environment";
    public const string Service = "slipway.service";
    public const string Instance = "slipway.instance";
    public const string Image = "slipway.image";
    public const string Port = "slipway.port";
    public const string Readiness = "slipway.readiness";
    /// <summary>Hash of everything but the replica count: an instance whose hash matches needs no replacement.</summary>
    public const string SpecHash = "slipway.spec";
    /// <summary>Who started this deployer (<see cref="DockerBackendOptions.Owner"/>), so exactly its containers can be swept.</summary>
    public const string Owner = "slipway.owner";

    /// <summary>Suffix of a new instance while it proves ready, before it takes the final name.</summary>
    public const string CandidateSuffix = "-next";

    public static string InstanceName(string environment, string service, int index) => $"slipway-{environment}-{service}-{index}";

    public static string CandidateName(string environment, string service, int index) => InstanceName(environment, service, index) + CandidateSuffix;

    public static string Hash(DeploymentSpec spec)
    {
        var text = new StringBuilder()
            .Append(spec.Image).Append('\n').Append(spec.ContainerPort).Append('\n')
            .Append(spec.ReadinessPath).Append('\n').Append(spec.LivenessPath).Append('\n')
            .Append(spec.MemoryBytes).Append('\n').Append(spec.Cpus?.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (key, value) in spec.Env.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append(key).Append('=').Append(value.Length).Append(':').Append(value).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
