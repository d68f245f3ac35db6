namespace Slipway.BuildConfig;

// The parsed Blubber v4 config as immutable records. Optional values are null when the
// YAML did not set them, because Blubber's merge rules depend on "was it set".

/// <summary>A whole <c>blubber.yaml</c>: the version, the top-level common keys and the variants.</summary>
public sealed record BlubberConfig(string Version, CommonConfig Common, IReadOnlyList<VariantConfig> Variants)
{
    /// <summary>The file's <c># syntax=</c> Blubber frontend, when it names one.</summary>
    public BlubberSyntax? Syntax { get; init; }

    /// <summary>Accepted with a caveat (keys newer or older than the pinned Blubber version), for the build log.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public VariantConfig? Variant(string name) => Variants.FirstOrDefault(v => v.Name == name);
}

/// <summary>A variant: common keys plus <c>includes</c> and <c>copies</c>.</summary>
public sealed record VariantConfig(string Name, CommonConfig Common, IReadOnlyList<Located<string>> Includes,
    IReadOnlyList<Artifact> Copies, int Line);

/// <summary>A value and the YAML line it came from.</summary>
public sealed record Located<T>(T Value, int Line);

/// <summary>Keys allowed both at top level and in variants (blubber-v4 §3).</summary>
public sealed record CommonConfig(
    string? Base,
    IReadOnlyList<KeyValuePair<string, string>> Arguments,
    AptConfig Apt,
    IReadOnlyList<BuilderEntry>? Builders,
    NodeBuilder? Node,
    PhpBuilder? Php,
    PythonBuilder? Python,
    CustomBuilder? Builder,
    LivesConfig Lives,
    RunsConfig Runs,
    IReadOnlyList<string>? Entrypoint,
    int Line)
{
    public static CommonConfig Empty(int line = 0) => new(null, [], AptConfig.Empty, null, null, null, null, null,
        new LivesConfig(null, null, null, null), new RunsConfig(null, null, null, null, null, []), null, line);

    /// <summary>Built-in defaults (blubber-v4 §5).</summary>
    public static CommonConfig Defaults => Empty() with
    {
        Lives = new LivesConfig("/srv/app", "somebody", 65533, 65533),
        Runs = new RunsConfig("runuser", 900, 900, null, false, []),
    };
}

public sealed record AptConfig(IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Packages,
    IReadOnlyList<AptSource> Sources, IReadOnlyList<AptProxy> Proxies)
{
    public static readonly AptConfig Empty = new([], [], []);
    public bool IsEmpty => Packages.All(p => p.Value.Count == 0) && Sources.Count == 0 && Proxies.Count == 0;
}

public sealed record AptSource(string Url, string? Distribution, IReadOnlyList<string> Components, string? SignedBy);

public sealed record AptProxy(string Url, string? Source);

/// <summary>An artifact (<c>copies</c> entry or builder requirement, blubber-v4 §3.6).</summary>
public sealed record Artifact(string From, string? Source, string? Destination, IReadOnlyList<string> Exclude, int Line)
{
    public const string Local = "local";
    public bool IsLocal => From == Local;

    /// <summary>Identity for duplicate detection and merging.</summary>
    public string Key => $"{From}\u0000{Source}\u0000{Destination}\u0000{string.Join('\u0001', Exclude)}";
}

/// <summary>One entry of the ordered <c>builders</c> list: exactly one of the four kinds.</summary>
public sealed record BuilderEntry(NodeBuilder? Node, PhpBuilder? Php, PythonBuilder? Python, CustomBuilder? Custom, int Line)
{
    public string Kind => Node is not null ? "node" : Php is not null ? "php" : Python is not null ? "python" : "custom";
}

public sealed record NodeBuilder(IReadOnlyList<Artifact>? Requirements, string? Env, bool? UseNpmCi, bool? AllowDedupeFailure, int Line);

public sealed record PhpBuilder(IReadOnlyList<Artifact>? Requirements, bool? Production, int Line);

public sealed record PoetryConfig(string? Version, bool? Devel, IReadOnlyList<string>? Only, IReadOnlyList<string>? Without);

public sealed record PythonBuilder(
    string? Version, IReadOnlyList<Artifact>? Requirements, bool? UseSystemSitePackages, bool? NoDeps,
    PoetryConfig? Poetry, string? Venv, string? PipVersion, string? SetuptoolsVersion, string? ToxVersion,
    string? WheelVersion, int Line);

/// <summary>A custom builder. <see cref="ShellCommand"/> is a string command, <see cref="Command"/> the list form.</summary>
public sealed record CustomBuilder(
    string? ShellCommand, IReadOnlyList<string>? Command, string? Script, IReadOnlyList<Artifact>? Requirements,
    IReadOnlyList<Mount>? Mounts, IReadOnlyList<Cache>? Caches, int Line)
{
    public bool HasCommand => ShellCommand is not null || Command is not null;
}

public sealed record Mount(string From, string? Destination, string? Source);

public sealed record Cache(string Destination, string? Id, string? Access);

public sealed record LivesConfig(string? In, string? As, uint? Uid, uint? Gid);

public sealed record RunsConfig(string? As, uint? Uid, uint? Gid, string? In, bool? Insecurely,
    IReadOnlyList<KeyValuePair<string, string>> Environment);
