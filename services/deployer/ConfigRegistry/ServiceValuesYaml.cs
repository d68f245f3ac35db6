using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Slipway.Deployer.Config;

/// <summary>
/// Reads and writes a values file. Output is deterministic (fixed key order, env sorted) so that the same
/// values always give the same bytes: that is what lets a redelivered deployment add no commit.
/// </summary>
public static class ServiceValuesYaml
{
    /// <summary>Values files are small; anything bigger is not ours.</summary>
    public const int MaxBytes = 256 * 1024;

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    // Unknown keys are an error: a typo such as "replica:" must not silently deploy one instance.
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    public static string Serialize(ServiceValues values)
    {
        var file = new ValuesFile
        {
            Image = values.Image,
            Replicas = values.Replicas,
            Port = values.Port,
            Probes = new ProbesFile { Readiness = values.Probes.Readiness, Liveness = values.Probes.Liveness },
            Resources = values.Resources.Cpus is null && values.Resources.Memory is null
                ? null
                : new ResourcesFile { Cpus = values.Resources.Cpus, Memory = values.Resources.Memory },
            Env = values.Env.Count == 0 ? null : new SortedDictionary<string, string>(values.Env.ToDictionary(), StringComparer.Ordinal),
        };
        return "# Managed by the Slipway deployer: every change here is a deployment.\n" + Serializer.Serialize(file);
    }

    /// <exception cref="ConfigRegistryException">The file is not valid values YAML.</exception>
    public static ServiceValues Deserialize(string yaml, string source)
    {
        if (yaml.Length > MaxBytes) throw new ConfigRegistryException($"{source}: values file is larger than {MaxBytes} bytes");
        ValuesFile? file;
        try { file = Deserializer.Deserialize<ValuesFile?>(yaml); }
        catch (YamlException e) { throw new ConfigRegistryException($"{source}: invalid values YAML at {e.Start}: {e.InnerException?.Message ?? e.Message}"); }
        if (file?.Image is null) throw new ConfigRegistryException($"{source}: 'image' is required");
        var values = new ServiceValues
        {
            Image = file.Image,
            Replicas = file.Replicas ?? 1,
            Port = file.Port ?? 8080,
            Probes = new ProbeValues
            {
                Readiness = file.Probes?.Readiness ?? new ProbeValues().Readiness,
                Liveness = file.Probes?.Liveness ?? new ProbeValues().Liveness,
            },
            Resources = new ResourceValues { Cpus = file.Resources?.Cpus, Memory = file.Resources?.Memory },
            Env = file.Env is null ? new Dictionary<string, string>() : new Dictionary<string, string>(file.Env, StringComparer.Ordinal),
        };
        var errors = values.Validate().ToList();
        if (errors.Count > 0) throw new ConfigRegistryException($"{source}: {string.Join("; ", errors)}");
        return values;
    }

    // Mutable shapes for YamlDotNet only; the public type stays immutable.
    private sealed class ValuesFile
    {
        public string? Image { get; set; }
        public int? Replicas { get; set; }
        public int? Port { get; set; }
        public ProbesFile? Probes { get; set; }
        public ResourcesFile? Resources { get; set; }
        public SortedDictionary<string, string>? Env { get; set; }
    }

    private sealed class ProbesFile
    {
        public string? Readiness { get; set; }
        public string? Liveness { get; set; }
    }

    private sealed class ResourcesFile
    {
        public double? Cpus { get; set; }
        public string? Memory { get; set; }
    }
}
