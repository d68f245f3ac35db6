using System.Globalization;
using System.Text.RegularExpressions;
using Slipway.Deployer.Backends;

namespace Slipway.Deployer.Config;

/// <summary>
/// What one service runs in one environment: the content of <c>environments/&lt;env&gt;/&lt;service&gt;.yaml</c>
/// in the configuration registry. The image is always pinned by digest, so a commit names exactly what ran.
/// </summary>
public sealed partial record ServiceValues
{
    /// <summary>Image by digest, <c>registry/repo@sha256:&lt;64 hex&gt;</c>.</summary>
    public required string Image { get; init; }

    /// <summary>Number of instances, 1-100.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>The port the service listens on inside its container.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>HTTP paths for readiness and liveness.</summary>
    public ProbeValues Probes { get; init; } = new();

    /// <summary>Limits per instance.</summary>
    public ResourceValues Resources { get; init; } = new();

    /// <summary>Environment variables. Kept sorted when written so equal values give byte-equal files.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Every problem with these values, empty when valid.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Image) || !ImageByDigest().IsMatch(Image))
            yield return $"image '{Image}' must be pinned by digest (registry/repo@sha256:<64 hex>)";
        if (Replicas is < 1 or > 100) yield return $"replicas {Replicas} must be 1-100";
        if (Port is < 1 or > 65535) yield return $"port {Port} must be 1-65535";
        foreach (var (name, path) in new[] { ("readiness", Probes.Readiness), ("liveness", Probes.Liveness) })
            if (string.IsNullOrEmpty(path) || !path.StartsWith('/') || path.Length > 1024 || path.Any(char.IsWhiteSpace))
                yield return $"probes.{name} '{path}' must be an absolute HTTP path without spaces";
        if (Resources.Cpus is { } cpus && (cpus <= 0 || cpus > 1024)) yield return $"resources.cpus {cpus} must be > 0 and <= 1024";
        if (Resources.Memory is { } memory && ParseMemory(memory) is null)
            yield return $"resources.memory '{memory}' is not a size (e.g. 256Mi, 1Gi, 500M or bytes, at least 6Mi)";
        if (Env.Count > 200) yield return "env has more than 200 variables";
        foreach (var (key, value) in Env)
        {
            if (!EnvName().IsMatch(key)) yield return $"env name '{key}' is invalid (letters, digits, underscore; not starting with a digit)";
            if (value is null || value.Length > 32_768 || value.Contains('\0')) yield return $"env '{key}' value is missing, too long or contains NUL";
        }
    }

    /// <summary>The spec a backend rolls out for these values.</summary>
    public DeploymentSpec ToDeploymentSpec(string environment, string service) =>
        new(environment, service, Image, Replicas, Port, Probes.Readiness, Probes.Liveness,
            new SortedDictionary<string, string>(Env.ToDictionary(), StringComparer.Ordinal),
            Resources.Memory is { } memory ? ParseMemory(memory) : null, Resources.Cpus);

    /// <summary>
    /// Bytes for a Kubernetes-style size: plain bytes, decimal (k, M, G) or binary (Ki, Mi, Gi) suffixes.
    /// Null when unparseable or below Docker's minimum of 6 MiB.
    /// </summary>
    public static long? ParseMemory(string text)
    {
        var match = MemorySize().Match(text.Trim());
        if (!match.Success || !decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return null;
        decimal multiplier = match.Groups[2].Value switch
        {
            "" => 1m, "k" or "K" => 1e3m, "M" => 1e6m, "G" => 1e9m,
            "Ki" => 1024m, "Mi" => 1024m * 1024, "Gi" => 1024m * 1024 * 1024,
            _ => 0m,
        };
        var bytes = number * multiplier;
        return bytes is >= 6 * 1024 * 1024 and <= 1024m * 1024 * 1024 * 1024 ? (long)bytes : null;
    }

    // Equality by content: records compare dictionaries by reference, which is not what "same values" means.
    public bool Equals(ServiceValues? other) =>
        other is not null && Image == other.Image && Replicas == other.Replicas && Port == other.Port
        && Probes == other.Probes && Resources == other.Resources
        && Env.Count == other.Env.Count && Env.All(kv => other.Env.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public override int GetHashCode() => HashCode.Combine(Image, Replicas, Port, Probes, Resources, Env.Count);

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._\-/:]{0,510}@sha256:[0-9a-f]{64}\z")]
    private static partial Regex ImageByDigest();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex EnvName();

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(|k|K|M|G|Ki|Mi|Gi)\z")]
    private static partial Regex MemorySize();
}

/// <summary>HTTP paths probed on the service's port; 2xx means ready (or alive).</summary>
public sealed record ProbeValues
{
    /// <summary>Readiness path, e.g. <c>/readyz</c>.</summary>
    public string Readiness { get; init; } = "/readyz";

    /// <summary>Liveness path, e.g. <c>/healthz</c>.</summary>
    public string Liveness { get; init; } = "/healthz";
}

/// <summary>Limits per instance; null means the engine's default (unlimited).</summary>
public sealed record ResourceValues
{
    /// <summary>CPUs, e.g. 0.5.</summary>
    public double? Cpus { get; init; }

    /// <summary>Memory, e.g. <c>256Mi</c>.</summary>
    public string? Memory { get; init; }
}
