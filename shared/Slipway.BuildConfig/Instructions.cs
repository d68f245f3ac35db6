namespace Slipway.BuildConfig;

/// <summary>Blubber's build phases, in order (blubber-v4 §7).</summary>
public enum Phase { Privileged, PrivilegeDropped, PreInstall, Install, PostInstall }

/// <summary>The small instruction set of the former Dockerfile compiler (blubber-v4 §11).</summary>
public abstract record Instruction;

public sealed record UserInstruction(string User) : Instruction;
/// <summary>Environment variables; rendered with keys sorted.</summary>
public sealed record EnvInstruction(IReadOnlyList<KeyValuePair<string, string>> Variables) : Instruction;
public sealed record ArgInstruction(string Name, string DefaultValue) : Instruction;
/// <summary>An <c>ARG</c> without a default: one of BuildKit's automatic platform arguments, made visible in the stage.</summary>
public sealed record PlatformArgInstruction(string Name) : Instruction;
/// <summary>Shell commands run as one step, joined with <c>&amp;&amp;</c>; each is already shell text.</summary>
public sealed record RunInstruction(IReadOnlyList<string> Commands) : Instruction
{
    /// <summary>
    /// A package-install step (apt, npm, composer, pip, poetry, a custom builder's command or script): the only steps
    /// given a network. With <see cref="BuildPlan.NetworkNoneFlag"/> every other RUN carries <c>--network=none</c>.
    /// </summary>
    public bool NeedsNetwork { get; init; }

    /// <summary>BuildKit <c>RUN --mount</c>s (caches, bind mounts of the context, a variant or an image).</summary>
    public IReadOnlyList<RunMount> Mounts { get; init; } = [];

    /// <summary>When set, the step runs this argv directly (exec form, no shell) and <see cref="Commands"/> is empty.</summary>
    public IReadOnlyList<string>? Exec { get; init; }
}

/// <summary>A BuildKit <c>RUN --mount</c>.</summary>
public abstract record RunMount;

/// <summary>A persistent cache (<c>type=cache</c>); <see cref="Id"/> is already scoped to the project.</summary>
public sealed record CacheMount(string Target, string Id, string Sharing, uint Uid, uint Gid) : RunMount;

/// <summary>A bind mount (<c>type=bind</c>) of the build context (<see cref="From"/> null), a stage or an image.</summary>
public sealed record BindMount(string Target, string? From, string Source, bool ReadWrite) : RunMount;
public sealed record CopyInstruction(IReadOnlyList<string> Sources, string Destination, string? Chown, string? From) : Instruction;
public sealed record WorkingDirectoryInstruction(string Path) : Instruction;
public sealed record EntrypointInstruction(IReadOnlyList<string> Arguments) : Instruction;

public sealed record PhaseBlock(Phase Phase, IReadOnlyList<Instruction> Instructions);

/// <summary>One build stage: one variant, its base (empty for scratch) and its phases.</summary>
public sealed record Stage(string Name, string Base, IReadOnlyList<PhaseBlock> Phases)
{
    /// <summary>
    /// A stage Slipway adds (a builder script's file, an excluding copy from another variant or image), not a
    /// variant; it comes right before the stage that uses it.
    /// </summary>
    public bool IsHelper { get; init; }
}

/// <summary>Everything needed to render the Dockerfile: stages leaves first, target last, and its labels.</summary>
public sealed record BuildPlan(IReadOnlyList<Stage> Stages, IReadOnlyList<KeyValuePair<string, string>> Labels)
{
    public Stage Target => Stages[^1];

    /// <summary>Rendered for BuildKit's built-in Dockerfile frontend (RUN flags); false for the classic builder.</summary>
    public bool BuildKit { get; init; }

    /// <summary>Steps that install nothing carry <c>RUN --network=none</c> (<see cref="CompileOptions.NetworkNoneFlag"/>).</summary>
    public bool NetworkNoneFlag { get; init; }

    /// <summary>Accepted with a caveat, for the build log (the config's and the compiler's).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Build arguments to pass to the build: declared <c>arguments</c> (and LIVES_*/RUNS_*) given in the options.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> BuildArgs { get; init; } = [];

    /// <summary>The RUN steps that get a network (package installs), by stage, in order.</summary>
    public IEnumerable<(string Stage, RunInstruction Step)> NetworkSteps =>
        Stages.SelectMany(s => s.Phases.SelectMany(p => p.Instructions).OfType<RunInstruction>().Where(r => r.NeedsNetwork).Select(r => (s.Name, r)));
}
