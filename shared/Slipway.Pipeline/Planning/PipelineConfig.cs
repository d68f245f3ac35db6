namespace Slipway.Pipeline.Planning;

/// <summary>
/// A schema-valid PipelineLib v0 <c>.pipeline/config.yaml</c>. Fields PipelineLib interpolates stay
/// <see cref="ConfigValue"/> trees: their meaning is known only once <c>${...}</c> is resolved per stage.
/// </summary>
public sealed record PipelineConfig(IReadOnlyList<PipelineDefinition> Pipelines)
{
    public const string DefaultPath = ".pipeline/config.yaml";

    /// <summary>Pipelines whose own keys break the schema: refused alone, as PipelineLib's per-pipeline jobs would fail alone.</summary>
    public IReadOnlyList<PlanRefusal> Refused { get; init; } = [];

    /// <summary>Keys PipelineLib's schema allows and its code ignores (e.g. a top-level <c>x-defaults</c> holding YAML anchors); shown, not run.</summary>
    public IReadOnlyList<PlanRefusal> Ignored { get; init; } = [];

    /// <summary>Every pipeline name, refused or not, in declaration order.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    public PipelineDefinition? Find(string name) => Pipelines.FirstOrDefault(p => p.Name == name);
}

/// <summary>One entry of <c>pipelines</c>.</summary>
public sealed record PipelineDefinition(
    string Name,
    int Line,
    ConfigValue? Blubberfile,
    ConfigValue? Directory,
    FetchOptions Fetch,
    ConfigValue? Notify,
    ConfigValue? Execution,
    IReadOnlyList<StageDefinition> Stages);

/// <summary>The <c>fetch</c> git options, with PipelineLib's defaults.</summary>
public sealed record FetchOptions(bool Shallow = true, int Depth = 20, bool Submodules = true, bool Tags = false);

/// <summary>One entry of a pipeline's <c>stages</c>; absent keys are null.</summary>
public sealed record StageDefinition(
    string Name,
    int Line,
    ConfigValue? Blubberfile = null,
    ConfigValue? Build = null,
    ConfigValue? Run = null,
    ConfigValue? Copy = null,
    ConfigValue? Publish = null,
    ConfigValue? Deploy = null,
    ConfigValue? Promote = null,
    ConfigValue? Notify = null,
    ConfigValue? Trigger = null,
    ConfigValue? Exports = null)
{
    /// <summary>Only a name: PipelineLib builds the variant of the same name and runs it.</summary>
    public bool IsShorthand =>
        Blubberfile is null && Build is null && Run is null && Copy is null && Publish is null && Deploy is null
        && Promote is null && Notify is null && Trigger is null && Exports is null;

    /// <summary>The action keys the stage sets (what a job's allow list is checked against), in PipelineLib's step order.</summary>
    public IEnumerable<string> Actions()
    {
        if (Build is not null) yield return "build";
        if (Run is not null) yield return "run";
        if (Copy is not null) yield return "copy";
        if (Publish is not null) yield return "publish";
        if (Promote is not null) yield return "promote";
        if (Deploy is not null) yield return "deploy";
        if (Exports is not null) yield return "exports";
        if (Trigger is not null) yield return "trigger";
        if (Notify is not null) yield return "notify";
    }
}
