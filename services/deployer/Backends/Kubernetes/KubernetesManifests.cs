using System.Globalization;
using k8s.Models;
using Slipway.Contracts;

namespace Slipway.Deployer.Backends.Kubernetes;

/// <summary>
/// The objects a rollout applies, built from a <see cref="DeploymentSpec"/>: the Deployment of each track and the
/// Service spanning them, with the labels that tie them together. No API calls (those are <see cref="KubernetesBackend"/>'s).
/// </summary>
public sealed class KubernetesManifests(KubernetesOptions options)
{
    public const string CanarySuffix = "-canary";
    public const string StableTrack = "stable";
    public const string CanaryTrack = "canary";
    public const string AppLabel = "app";
    public const string TrackLabel = "track";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string EnvironmentLabel = "slipway.io/environment";

    /// <summary>The canary Deployment's name.</summary>
    public static string CanaryName(string service) => service + CanarySuffix;

    /// <summary>The Deployment a track runs, as applied: replicas of the spec's image, probes, resources and env.</summary>
    public V1Deployment Deployment(DeploymentSpec spec, string ns, string track, int replicas)
    {
        var name = track == CanaryTrack ? CanaryName(spec.Service) : spec.Service;
        var selector = new Dictionary<string, string> { [AppLabel] = spec.Service, [TrackLabel] = track };
        var labels = new Dictionary<string, string>(selector)
        {
            [ManagedByLabel] = "slipway",
            [EnvironmentLabel] = spec.Environment,
        };
        var resources = new Dictionary<string, ResourceQuantity>();
        if (spec.MemoryBytes is { } memory)
            resources["memory"] = new ResourceQuantity(FormatBytes(memory));
        if (spec.Cpus is { } cpus)
            resources["cpu"] = new ResourceQuantity(((long)Math.Ceiling(cpus * 1000)).ToString(CultureInfo.InvariantCulture) + "m");

        var container = new V1Container
        {
            Name = spec.Service,
            Image = spec.Image,
            Ports = [new V1ContainerPort { Name = "http", ContainerPort = spec.ContainerPort, Protocol = "TCP" }],
            Env = spec.Env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new V1EnvVar { Name = e.Key, Value = e.Value }).ToList(),
            ReadinessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = spec.ReadinessPath, Port = spec.ContainerPort },
                PeriodSeconds = 5,
                FailureThreshold = 3,
            },
            LivenessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = spec.LivenessPath, Port = spec.ContainerPort },
                InitialDelaySeconds = 10,
                PeriodSeconds = 10,
                FailureThreshold = 3,
            },
            // Requests equal limits: the instance gets what it is allowed (Guaranteed QoS when both are set).
            Resources = resources.Count == 0 ? null : new V1ResourceRequirements
            {
                Limits = resources,
                Requests = new Dictionary<string, ResourceQuantity>(resources),
            },
            SecurityContext = options.RunAsNonRoot ? new V1SecurityContext { AllowPrivilegeEscalation = false } : null,
        };

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = selector },
                ProgressDeadlineSeconds = options.ProgressDeadlineSeconds,
                // Never fewer ready instances than asked for while an image changes: surge one, remove none first.
                Strategy = new V1DeploymentStrategy
                {
                    Type = "RollingUpdate",
                    RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1, MaxUnavailable = 0 },
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        Containers = [container],
                        SecurityContext = options.RunAsNonRoot ? new V1PodSecurityContext { RunAsNonRoot = true } : null,
                    },
                },
            },
        };
    }

    /// <summary>The NodePort Service, selecting only <c>app=&lt;service&gt;</c> so it spans both tracks.</summary>
    public V1Service Service(DeploymentSpec spec, string ns) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta
        {
            Name = spec.Service,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string>
            {
                [AppLabel] = spec.Service,
                [ManagedByLabel] = "slipway",
                [EnvironmentLabel] = spec.Environment,
            },
        },
        Spec = new V1ServiceSpec
        {
            Type = "NodePort",
            Selector = new Dictionary<string, string> { [AppLabel] = spec.Service },
            Ports =
            [
                new V1ServicePort
                {
                    Name = "http",
                    Protocol = "TCP",
                    Port = spec.ContainerPort,
                    TargetPort = spec.ContainerPort,
                    NodePort = options.NodePortFor(spec.Environment, spec.Service),
                },
            ],
        },
    };

    /// <summary>A byte count as a quantity in the largest binary unit that divides it: 536870912 → 512Mi.</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
        var unit = 0;
        while (bytes != 0 && bytes % 1024 == 0 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return bytes.ToString(CultureInfo.InvariantCulture) + units[unit];
    }

    /// <summary>Refuses a spec whose names Kubernetes would refuse, before anything is applied.</summary>
    public static void Validate(DeploymentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // A Service name is an RFC 1035 label (starts with a letter); "-canary" must still fit in 63 characters.
        if (!KubernetesOptions.IsDnsLabel(spec.Service) || !char.IsAsciiLetterLower(spec.Service[0]) || spec.Service.Length > 63 - CanarySuffix.Length)
            throw new ArgumentException($"service '{spec.Service}' is not a valid Kubernetes name (lower-case letters, digits, '-', starting with a letter, at most {63 - CanarySuffix.Length} characters)", nameof(spec));
        if (!KubernetesOptions.IsDnsLabel(spec.Environment))
            throw new ArgumentException($"environment '{spec.Environment}' is not a valid Kubernetes name", nameof(spec));
        if (string.IsNullOrWhiteSpace(spec.Image))
            throw new ArgumentException("image is empty", nameof(spec));
        if (spec.Replicas < 1)
            throw new ArgumentException($"replicas {spec.Replicas} must be at least 1", nameof(spec));
        if (spec.ContainerPort is < 1 or > 65535)
            throw new ArgumentException($"container port {spec.ContainerPort} is out of range", nameof(spec));
        if (!spec.ReadinessPath.StartsWith('/') || !spec.LivenessPath.StartsWith('/'))
            throw new ArgumentException("readiness and liveness paths must start with '/'", nameof(spec));
    }
}
