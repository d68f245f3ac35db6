using System.Text.RegularExpressions;
using k8s;
using Slipway.Hosting;

namespace Slipway.Deployer.Backends.Kubernetes;

/// <summary>
/// Configuration of the <c>kubernetes</c> deployment backend (section <c>Kubernetes</c>). The cluster is reached
/// through a kubeconfig file, the pod's service account (<see cref="InCluster"/>), or an explicit
/// <see cref="Host"/>; with none of these the client's default (<c>$KUBECONFIG</c> or <c>~/.kube/config</c>) applies.
/// </summary>
public sealed partial class KubernetesOptions : IValidatableOptions
{
    public const string Section = "Kubernetes";

    /// <summary>Namespace of an environment, <c>{environment}</c> replaced; default <c>slipway-{environment}</c>.</summary>
    public string NamespaceTemplate { get; set; } = "slipway-{environment}";

    /// <summary>Explicit namespaces per environment (environment → namespace); wins over <see cref="NamespaceTemplate"/>.</summary>
    public Dictionary<string, string> Namespaces { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Path of a kubeconfig file; null means the client's default lookup (unless <see cref="InCluster"/>).</summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>The kubeconfig context to use; null means the file's current context.</summary>
    public string? Context { get; set; }

    /// <summary>Use the pod's service account (the deployer itself runs in the cluster).</summary>
    public bool InCluster { get; set; }

    /// <summary>API server URL without a kubeconfig (e.g. <c>kubectl proxy</c> at http://127.0.0.1:8001).</summary>
    public string? Host { get; set; }

    /// <summary>
    /// Fixed node ports, keyed by <c>environment/service</c> or by <c>service</c> (the first wins). A service not
    /// listed gets a node port allocated by the cluster, kept across re-applies.
    /// </summary>
    public Dictionary<string, int> NodePorts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Field manager of every server-side apply.</summary>
    public string FieldManager { get; set; } = "slipway";

    /// <summary>How often a rollout's Deployments are polled while waiting for readiness.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary><c>spec.progressDeadlineSeconds</c> of the Deployments (the controller's own stall detection).</summary>
    public int ProgressDeadlineSeconds { get; set; } = 600;

    /// <summary>Pods must run as a non-root user (<c>securityContext.runAsNonRoot</c>), as Slipway's image policy wants.</summary>
    public bool RunAsNonRoot { get; set; } = true;

    /// <summary>The namespace the given environment deploys into.</summary>
    public string NamespaceFor(string environment)
    {
        if (Namespaces.TryGetValue(environment, out var ns))
            return ns;
        return NamespaceTemplate.Replace("{environment}", environment, StringComparison.Ordinal);
    }

    /// <summary>The fixed node port of a service, if configured.</summary>
    public int? NodePortFor(string environment, string service) =>
        NodePorts.TryGetValue($"{environment}/{service}", out var p) ? p
        : NodePorts.TryGetValue(service, out p) ? p
        : null;

    /// <summary>The client configuration these options describe.</summary>
    public KubernetesClientConfiguration ClientConfiguration()
    {
        if (InCluster)
            return KubernetesClientConfiguration.InClusterConfig();
        if (!string.IsNullOrEmpty(Host))
            return new KubernetesClientConfiguration { Host = Host };
        if (!string.IsNullOrEmpty(KubeconfigPath))
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath, currentContext: Context);
        return KubernetesClientConfiguration.BuildDefaultConfig();
    }

    /// <summary>A client for the configured cluster.</summary>
    public IKubernetes CreateClient() => new k8s.Kubernetes(ClientConfiguration());

    public IEnumerable<string> Validate()
    {
        if (InCluster && (!string.IsNullOrEmpty(KubeconfigPath) || !string.IsNullOrEmpty(Host)))
            yield return "Kubernetes:InCluster cannot be combined with Kubernetes:KubeconfigPath or Kubernetes:Host";
        if (!string.IsNullOrEmpty(KubeconfigPath) && !string.IsNullOrEmpty(Host))
            yield return "Kubernetes:KubeconfigPath and Kubernetes:Host are exclusive";
        if (!string.IsNullOrEmpty(KubeconfigPath) && !File.Exists(KubeconfigPath))
            yield return $"Kubernetes:KubeconfigPath '{KubeconfigPath}' does not exist";
        if (!string.IsNullOrEmpty(Host) && (!Uri.TryCreate(Host, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            yield return $"Kubernetes:Host '{Host}' is not an http(s) URL";
        if (!NamespaceTemplate.Contains("{environment}", StringComparison.Ordinal))
            yield return $"Kubernetes:NamespaceTemplate '{NamespaceTemplate}' must contain {{environment}}";
        else if (!IsDnsLabel(NamespaceTemplate.Replace("{environment}", "x", StringComparison.Ordinal)))
            yield return $"Kubernetes:NamespaceTemplate '{NamespaceTemplate}' does not give a valid namespace name (lower-case letters, digits, '-')";
        foreach (var (env, ns) in Namespaces)
            if (!IsDnsLabel(ns))
                yield return $"Kubernetes:Namespaces:{env} '{ns}' is not a valid namespace name";
        foreach (var (key, port) in NodePorts)
            if (port is < 30000 or > 32767)
                yield return $"Kubernetes:NodePorts:{key} {port} is outside the default node port range 30000-32767";
        if (string.IsNullOrWhiteSpace(FieldManager) || FieldManager.Length > 128)
            yield return "Kubernetes:FieldManager must be 1-128 characters";
        if (PollInterval <= TimeSpan.Zero)
            yield return "Kubernetes:PollInterval must be positive";
        if (ProgressDeadlineSeconds < 1)
            yield return "Kubernetes:ProgressDeadlineSeconds must be positive";
    }

    /// <summary>An RFC 1123 label: at most 63 lower-case letters, digits or '-', starting and ending alphanumeric.</summary>
    public static bool IsDnsLabel(string value) => value.Length <= 63 && DnsLabel().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
