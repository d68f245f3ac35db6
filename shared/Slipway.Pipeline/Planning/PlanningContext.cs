using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// What triggered the run being planned; <paramref name="Now"/> gives <c>setup.timestamp</c>, <paramref name="Remote"/>
/// the git URL the revision was fetched from (<c>setup.remote</c>, without credentials), <see cref="RunId"/> the run.
/// </summary>
public sealed record PlanningContext(TriggerKind Trigger, string Project, string? Branch, string Revision, DateTimeOffset Now, string? Tag = null)
{
    public string? Remote { get; init; }

    /// <summary>
    /// The id of the run being planned: the trigger's, which each pipeline of a config.yaml replaces with its own
    /// (<see cref="PipelineRunId"/>). With <see cref="PlanningOptions.ArtifactBaseUrl"/> it gives <c>setup.logURL</c>, the
    /// run's status page; null (or no base URL): <c>setup.logURL</c> is empty.
    /// </summary>
    public string? RunId { get; init; }
}

/// <summary>
/// The plans for one trigger, one per pipeline to run. <see cref="HasPipeline"/> is false when the repo has no
/// <c>.pipeline/config.yaml</c> nor <c>.pipeline/blubber.yaml</c>. With <see cref="Error"/> set (the whole config is
/// refused) there are no plans; a pipeline refused alone is in <see cref="Refused"/> and the others are planned.
/// </summary>
public sealed record PlanningResult(IReadOnlyList<RunPlan> Plans, string? Error, bool HasPipeline)
{
    /// <summary>Where <see cref="Error"/> is (file and line), when set.</summary>
    public PlanRefusal? ErrorAt { get; init; }

    /// <summary>Pipelines refused alone, in declaration order; each is reported as a failed run of its own.</summary>
    public IReadOnlyList<PlanRefusal> Refused { get; init; } = [];

    /// <summary>Keys of config.yaml that PipelineLib ignores and so does Slipway, each with where (shown by <c>slipway plan</c>).</summary>
    public IReadOnlyList<PlanRefusal> Ignored { get; init; } = [];

    /// <summary>What Blubber accepted with a caveat in the files planned from, each as <c>&lt;path&gt;: &lt;warning&gt;</c> (shown by <c>slipway plan</c>).</summary>
    public IReadOnlyList<string> BlubberWarnings { get; init; } = [];

    /// <summary>Pipelines this trigger does not run.</summary>
    public IReadOnlyList<PipelineSkip> Skipped { get; init; } = [];

    /// <summary>
    /// Every planned and refused pipeline in declaration order: what the builder turns into runs (the first keeps the
    /// trigger's run id).
    /// </summary>
    public IReadOnlyList<string> Order { get; init; } = [];

    public static PlanningResult Refuse(PipelineConfigException e, string defaultFile) =>
        new([], e.Message, true) { ErrorAt = PlanRefusal.From(e, null, defaultFile) };
}
