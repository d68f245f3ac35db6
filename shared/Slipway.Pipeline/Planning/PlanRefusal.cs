namespace Slipway.Pipeline.Planning;

/// <summary>
/// Something the planner refused, with where: <paramref name="File"/> (repository path) and 1-based
/// <paramref name="Line"/> (0 when not tied to one). <paramref name="Pipeline"/> is null for the whole config
/// (it does not parse, or names an unknown pipeline), else the refused pipeline, which alone does not run.
/// </summary>
public sealed record PlanRefusal(string? Pipeline, string Message, string File, int Line)
{
    public static PlanRefusal From(PipelineConfigException e, string? pipeline, string defaultFile) =>
        new(pipeline, e.Message, e.File ?? defaultFile, e.Line);
}

/// <summary>A pipeline the trigger does not run (e.g. one that publishes, on a patch set), and why.</summary>
public sealed record PipelineSkip(string Pipeline, string Reason);
