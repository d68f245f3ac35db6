namespace Slipway.BuildConfig;

/// <summary>Blubber's build phases, in order (blubber-v4 §7).</summary>
public enum Phase { Privileged, PrivilegeDropped, PreInstall, Install, PostInstall }

/// <summary>The small instruction set of the former Dockerfile compiler (blubber-v4 §11).</summary>
public abstract record Instruction;

public sealed record UserInstruction(string User) : Instruction;
/// <summary>Environment variables; rendered with keys sorted.</summary>
public sealed record EnvInstruction(IReadOnlyList<KeyValuePair<string, string>> Variables) : Instruction;
public sealed record ArgInstruction(string Name, string DefaultValue) : Instruction;
/// <summary>Shell commands run as one step, joined with <c>&amp;&amp;</c>; each is already shell text.</summary>
public sealed record RunInstruction(IReadOnlyList<string> Commands) : Instruction;
public sealed record CopyInstruction(IReadOnlyList<string> Sources, string Destination, string? Chown, string? From) : Instruction;
public sealed record WorkingDirectoryInstruction(string Path) : Instruction;
public sealed record EntrypointInstruction(IReadOnlyList<string> Arguments) : Instruction;

public sealed record PhaseBlock(Phase Phase, IReadOnlyList<Instruction> Instructions);

/// <summary>One build stage: one variant, its base (empty for scratch) and its phases.</summary>
public sealed record Stage(string Name, string Base, IReadOnlyList<PhaseBlock> Phases);

/// <summary>Everything needed to render the Dockerfile: stages leaves first, target last, and its labels.</summary>
public sealed record BuildPlan(IReadOnlyList<Stage> Stages, IReadOnlyList<KeyValuePair<string, string>> Labels)
{
    public Stage Target => Stages[^1];
}
