namespace Slipway.Pipeline.Planning;

/// <summary>Caps that make a hostile <c>.pipeline/config.yaml</c> fail fast instead of exhausting the builder.</summary>
public sealed record PipelineConfigLimits
{
    public static readonly PipelineConfigLimits Default = new();

    /// <summary>Largest accepted file, in bytes.</summary>
    public int MaxFileBytes { get; init; } = 1024 * 1024;

    /// <summary>Most YAML nodes, counting every alias expansion (alias bombs).</summary>
    public int MaxNodes { get; init; } = 100_000;

    /// <summary>Deepest nesting of YAML collections.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Most entries in any one list or map (pipelines, stages, arguments, env, ...).</summary>
    public int MaxListLength { get; init; } = 500;

    /// <summary>Longest scalar, in characters (arguments may hold a whole script).</summary>
    public int MaxStringLength { get; init; } = 64 * 1024;

    /// <summary>Longest string any interpolation may produce, so nested merges and comprehensions cannot balloon.</summary>
    public int MaxInterpolatedLength { get; init; } = 1024 * 1024;

    /// <summary>Most items a list comprehension may yield.</summary>
    public int MaxComprehensionItems { get; init; } = 1000;
}
