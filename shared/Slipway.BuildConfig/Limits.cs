namespace Slipway.BuildConfig;

/// <summary>Caps that make hostile configs fail fast instead of exhausting the builder.</summary>
public sealed record Limits
{
    public static readonly Limits Default = new();

    /// <summary>Largest accepted config file, in bytes.</summary>
    public int MaxFileBytes { get; init; } = 1024 * 1024;
    /// <summary>Most YAML nodes visited, counting every alias expansion (alias bombs).</summary>
    public int MaxNodes { get; init; } = 100_000;
    /// <summary>Deepest nesting of YAML collections.</summary>
    public int MaxDepth { get; init; } = 32;
    public int MaxVariants { get; init; } = 100;
    /// <summary>Longest scalar (key or value), in characters.</summary>
    public int MaxStringLength { get; init; } = 4096;
    /// <summary>Most entries in any one list or map (packages, copies, requirements, environment, ...).</summary>
    public int MaxListLength { get; init; } = 500;
}
