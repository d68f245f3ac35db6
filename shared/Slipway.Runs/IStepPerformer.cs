using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// Does one kind of step (build, test, smoke, publish, deploy) for a stage service. The run-tracking
/// plumbing decides when a step is due and records its result; the performer only does the work.
/// Expected failures (a failing test, a broken Dockerfile) are results; exceptions mean "try again"
/// (the job is retried, then <see cref="Failure"/> reports it).
/// </summary>
public interface IStepPerformer
{
    StepKind Kind { get; }

    Task<StepResult> PerformAsync(StepExecution execution, CancellationToken ct);

    /// <summary>The failed-step event to emit when every attempt threw (e.g. the Docker engine stayed unreachable).</summary>
    IStepFailedEvent Failure(StepExecution execution, string reason);
}

/// <summary>
/// One attempt at a step. <see cref="EmitAsync"/> publishes an event at once (e.g. <c>build.started</c>). Every step event
/// gets its header (stage, step, attempt, times) from <see cref="Started{T}"/> or <see cref="Finished{T}"/>, and nowhere else.
/// </summary>
public sealed record StepExecution(RunState Run, PlanStage Stage, PlanStep Step, int Attempt, DateTimeOffset StartedAt,
    TimeProvider Clock, Func<IPipelineEvent, string[], Task> Emit)
{
    public string RunId => Run.RunId;

    public RunTrigger Trigger => Run.Started.Trigger;

    /// <summary>The event with this attempt's header: stage, step, attempt, and its start (the attempt's, or a later one such as a rollout stage's).</summary>
    public T Started<T>(T stepEvent, DateTimeOffset? startedAt = null) where T : StepEvent =>
        (T)(stepEvent with { Stage = Stage.Name, Step = Step.Name, Attempt = Attempt, StartedAt = startedAt ?? StartedAt });

    /// <summary>The event with this attempt's header, ending now (see <see cref="Started{T}"/>).</summary>
    public T Finished<T>(T stepEvent, DateTimeOffset? startedAt = null) where T : StepFinishedEvent
    {
        var start = startedAt ?? StartedAt;
        var now = Clock.GetUtcNow();
        return (T)(Started(stepEvent, start) with { FinishedAt = now, DurationMs = Math.Max(0, (long)(now - start).TotalMilliseconds) });
    }

    /// <summary>A step event without this attempt's header is a bug in its performer: it fails loudly instead of reaching consumers.</summary>
    public void EnsureHeader(IPipelineEvent data)
    {
        if (data is IStepEvent e && (e.Stage != Stage.Name || e.Step != Step.Name || e.Attempt != Attempt))
            throw new InvalidOperationException($"{data.GetType().Name} of run {RunId} lacks the header of {Step.Name} attempt {Attempt} "
                                                + "(made without StepExecution.Started or Finished)");
    }

    /// <summary>The build this step works on (see <see cref="RunState.ImageFor"/>); null when the run has none.</summary>
    public BuildSucceeded? Image(string? imageFrom) => Run.ImageFor(Stage, Step, imageFrom);

    /// <summary>The build this step works on; a run without one is a bug in its plan, so the attempt throws (and is retried).</summary>
    public BuildSucceeded RequireImage(string? imageFrom) =>
        Image(imageFrom) ?? throw new InvalidOperationException($"run {RunId}: no built image for {Step.Name}");

    /// <summary>An event of this attempt (a retried attempt emits its own).</summary>
    public Task EmitAsync(IPipelineEvent data, string? discriminator = null)
    {
        EnsureHeader(data);
        return Emit(data, [Step.Name, Attempt.ToString(), discriminator ?? ""]);
    }

    /// <summary>An event of the step whatever the attempt (e.g. asking for an approval): a retry emits the same event id again.</summary>
    public Task EmitOnceAsync(IPipelineEvent data, string discriminator)
    {
        EnsureHeader(data);
        return Emit(data, [Step.Name, discriminator]);
    }
}

/// <summary>How an attempt ended: <see cref="Finished"/> (succeeded or failed, with its finishing event) or <see cref="Waiting"/>.</summary>
public abstract record StepResult
{
    private StepResult() { }

    public static StepResult Succeeded(IStepFinishedEvent finishingEvent) => new Finished(StepOutcome.Succeeded, finishingEvent, null);

    public static StepResult Failed(IStepFailedEvent finishingEvent, string reason) => new Finished(StepOutcome.Failed, finishingEvent, reason);

    /// <summary>Nothing to emit now; the step is scheduled again when the awaited event arrives (e.g. an approval).</summary>
    public static StepResult Wait() => new Waiting();

    /// <summary>The attempt ended; <see cref="FinishingEvent"/> is emitted and recorded with the job.</summary>
    public sealed record Finished(StepOutcome Outcome, IStepFinishedEvent FinishingEvent, string? Reason) : StepResult;

    /// <summary>The step waits for an event; the attempt emits and records nothing.</summary>
    public sealed record Waiting : StepResult;
}
