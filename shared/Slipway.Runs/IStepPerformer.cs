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

/// <summary>One attempt at a step. <see cref="EmitAsync"/> publishes an event at once (e.g. <c>build.started</c>).</summary>
public sealed record StepExecution(RunState Run, PlanStage Stage, PlanStep Step, int Attempt, DateTimeOffset StartedAt,
    Func<IPipelineEvent, string[], Task> Emit)
{
    public string RunId => Run.RunId;

    public RunTrigger Trigger => Run.Started.Trigger;

    /// <summary>Milliseconds from the attempt's start to <paramref name="now"/> (never negative), for events' <c>durationMs</c>.</summary>
    public long MillisecondsUntil(DateTimeOffset now) => Math.Max(0, (long)(now - StartedAt).TotalMilliseconds);

    /// <summary>The build this step works on (see <see cref="RunState.ImageFor"/>); null when the run has none.</summary>
    public BuildSucceeded? Image(string? imageFrom) => Run.ImageFor(Stage, Step, imageFrom);

    /// <summary>The build this step works on; a run without one is a bug in its plan, so the attempt throws (and is retried).</summary>
    public BuildSucceeded RequireImage(string? imageFrom) =>
        Image(imageFrom) ?? throw new InvalidOperationException($"run {RunId}: no built image for {Step.Name}");

    /// <summary>An event of this attempt (a retried attempt emits its own).</summary>
    public Task EmitAsync(IPipelineEvent data, string? discriminator = null) => Emit(data, [Step.Name, Attempt.ToString(), discriminator ?? ""]);

    /// <summary>An event of the step whatever the attempt (e.g. asking for an approval): a retry emits the same event id again.</summary>
    public Task EmitOnceAsync(IPipelineEvent data, string discriminator) => Emit(data, [Step.Name, discriminator]);
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
