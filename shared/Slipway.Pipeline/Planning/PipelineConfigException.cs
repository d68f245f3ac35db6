namespace Slipway.Pipeline.Planning;

/// <summary>
/// A refused pipeline configuration. <see cref="Exception.Message"/> is the whole human message, worded as
/// PipelineLib words it where PipelineLib has a message, with the YAML line when known.
/// </summary>
public sealed class PipelineConfigException(string message, int line = 0, string? file = null) : Exception(message)
{
    /// <summary>1-based line in <see cref="File"/>, 0 when not tied to one.</summary>
    public int Line { get; } = line;

    /// <summary>The repository file the line is in; null for <c>.pipeline/config.yaml</c>.</summary>
    public string? File { get; } = file;
}
