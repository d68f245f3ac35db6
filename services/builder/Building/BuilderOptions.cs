using Slipway.Containers;
using Slipway.Hosting;

namespace Slipway.Builder.Building;

/// <summary>
/// Configuration section <c>Builder</c>: where the builder fetches from and works, the central Blubber policy, and how
/// images are built (limits, logs, network, pull credentials).
/// </summary>
public sealed class BuilderOptions : IValidatableOptions
{
    public const string Section = "Builder";

    /// <summary>Base URL of the git server; a project's repository is <c>&lt;GitUrl&gt;/&lt;project&gt;</c>. Defaults to <c>Gerrit:Url</c>.</summary>
    public string? GitUrl { get; set; }

    /// <summary>Where the per-project git caches and the per-run workspaces live.</summary>
    public string WorkDir { get; set; } = Path.Combine(Path.GetTempPath(), "slipway-builder");

    /// <summary>A Blubber policy file (format in blubber-v4.md) enforced before every build; none when empty.</summary>
    public string? PolicyFile { get; set; }

    /// <summary>Builds this instance runs at once; more wait for a slot (the engine and the CPU are shared).</summary>
    public int MaxConcurrentBuilds { get; set; } = 2;

    /// <summary>Default time limit of one build, used when a request gives none.</summary>
    public int BuildTimeoutSeconds { get; set; } = 1800;

    /// <summary>Where each build's full output is kept (one file per build); its tail goes into events.</summary>
    public string LogDir { get; set; } = Path.Combine(Path.GetTempPath(), "slipway-builder", "logs");

    /// <summary>
    /// Network of build steps when <c>Builder:Egress</c> is off and a request names none: <c>default</c> (the engine's
    /// bridge, unconfined) or <c>none</c>. BuildKit in dockerd takes no user-defined network.
    /// </summary>
    public string Network { get; set; } = "default";

    /// <summary>
    /// Memory of one build. dockerd's BuildKit ignores a build's own memory and CPU parameters (measured on 20.10), so
    /// all build steps together are bounded by this times <see cref="MaxConcurrentBuilds"/>, on the cgroup
    /// <see cref="StepsCgroup"/> they run under (<see cref="BuildKit.BuildStepCgroup"/>).
    /// </summary>
    public long MemoryBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>CPUs of one build; applied to all steps together as <see cref="MemoryBytes"/>.</summary>
    public double Cpus { get; set; } = 2;

    /// <summary>Processes of one build; applied to all steps together as <see cref="MemoryBytes"/> (a fork bomb stops there).</summary>
    public int PidsLimit { get; set; } = 4096;

    /// <summary>The cgroup the engine's BuildKit runs build steps under (relative to each controller's root); empty: not bounded.</summary>
    public string StepsCgroup { get; set; } = "docker/buildkit";

    /// <summary>Where the cgroup file system of the engine's host is mounted.</summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// Whether a build step (other than a recheck's) reuses a local image of the same project built from exactly the
    /// same inputs (<see cref="BuildInputKey"/>) instead of building it again.
    /// </summary>
    public bool ReuseIdenticalImages { get; set; } = true;

    /// <summary>
    /// Whether, once a build step succeeded, the run's next build step that still waits (for a test's run) is built
    /// at once when a build slot is free, so its step later reuses the image (needs <see cref="ReuseIdenticalImages"/>).
    /// </summary>
    public bool BuildAhead { get; set; } = true;

    /// <summary>Largest build context sent to the engine.</summary>
    public long MaxContextBytes { get; set; } = 1L * 1024 * 1024 * 1024;

    /// <summary>Most bytes of output kept in the log file; the rest is dropped with a note (the tail is kept apart).</summary>
    public long MaxLogBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Credentials for registries that base images are pulled from (read-only accounts are enough).</summary>
    public List<RegistryOptions> RegistryAuth { get; set; } = [];

    /// <summary>
    /// The default image policy: registries (<c>host[:port]</c>, matched exactly) that every base image and every
    /// <c>copies</c>/<c>requirements</c> image must come from. Defaults to the host of <c>Registry:Url</c>.
    /// </summary>
    public List<string> AllowedBaseRegistries { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(GitUrl)) yield return "Builder:GitUrl (or Gerrit:Url) is required: the git server the builder fetches from";
        else if (!Uri.TryCreate(GitUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ssh" or "file"))
            yield return $"Builder:GitUrl '{Slipway.Hosting.UrlCredentials.Redact(GitUrl)}' is invalid (want http(s)://, ssh:// or file:// URL)"; // never echo a password
        if (string.IsNullOrWhiteSpace(WorkDir)) yield return "Builder:WorkDir is required";
        if (!string.IsNullOrWhiteSpace(PolicyFile) && !File.Exists(PolicyFile)) yield return $"Builder:PolicyFile '{PolicyFile}' does not exist";
        if (AllowedBaseRegistries.Count == 0)
            yield return "Builder:AllowedBaseRegistries is empty (and Registry:Url is not set): the default image policy would refuse every base image";
        foreach (var r in AllowedBaseRegistries)
            if (Slipway.BuildConfig.ImageReference.NormalizeRegistryEntry(r ?? "") is null)
                yield return $"Builder:AllowedBaseRegistries has an invalid entry '{r}' (want host[:port])";
        if (MaxConcurrentBuilds is < 1 or > 64) yield return "Builder:MaxConcurrentBuilds must be between 1 and 64";
        if (BuildTimeoutSeconds is < 1 or > 86400) yield return "Builder:BuildTimeoutSeconds must be between 1 and 86400";
        if (string.IsNullOrWhiteSpace(LogDir)) yield return "Builder:LogDir is required";
        if (!IsValidNetwork(Network)) yield return $"Builder:Network '{Network}' is invalid (want default or none)";
        if (MemoryBytes < 64L * 1024 * 1024) yield return "Builder:MemoryBytes must be at least 67108864 (64 MiB)";
        if (Cpus is <= 0 or > 1024) yield return "Builder:Cpus must be greater than 0 and at most 1024";
        if (PidsLimit is < 64 or > 4_194_304) yield return "Builder:PidsLimit must be between 64 and 4194304";
        if (!string.IsNullOrEmpty(StepsCgroup) && (StepsCgroup.Split('/').Contains("..") || StepsCgroup.Contains('\0')))
            yield return $"Builder:StepsCgroup '{StepsCgroup}' is invalid (a path under the cgroup root, without ..)";
        if (MaxContextBytes < 1024) yield return "Builder:MaxContextBytes must be at least 1024";
        if (MaxLogBytes < 1024) yield return "Builder:MaxLogBytes must be at least 1024";
        for (var i = 0; i < RegistryAuth.Count; i++)
            foreach (var error in RegistryAuth[i].Validate())
                yield return error.Replace("Registry:", $"Builder:RegistryAuth:{i}:", StringComparison.Ordinal);
    }

    /// <summary>
    /// The network modes a build may ask for: <c>default</c> or <c>none</c>. <c>host</c> is refused (build steps run
    /// untrusted code), and BuildKit in dockerd takes no user-defined network.
    /// </summary>
    public static bool IsValidNetwork(string? network) => network is "default" or "none";
}
