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
    object Failure(StepExecution execution, string reason);
}

/// <summary>One attempt at a step. <see cref="EmitAsync"/> publishes an event at once (e.g. <c>build.started</c>).</summary>
public sealed record StepExecution(RunState Run, PlanStage Stage, PlanStep Step, int Attempt, DateTimeOffset StartedAt,
    Func<object, string[], Task> Emit)
{
    public string RunId => Run.RunId;

    public RunTrigger Trigger => Run.Started.Trigger;

    /// <summary>Milliseconds from the attempt's start to <paramref name="now"/> (never negative), for events' <c>durationMs</c>.</summary>
    public long MillisecondsUntil(DateTimeOffset now) => Math.Max(0, (long)(now - StartedAt).TotalMilliseconds);

    /// <summary>An event of this attempt (a retried attempt emits its own).</summary>
    public Task EmitAsync(object data, string? discriminator = null) => Emit(data, [Step.Name, Attempt.ToString(), discriminator ?? ""]);

    /// <summary>An event of the step whatever the attempt (e.g. asking for an approval): a retry emits the same event id again.</summary>
    public Task EmitOnceAsync(object data, string discriminator) => Emit(data, [Step.Name, discriminator]);
}

/// <summary>How an attempt ended: succeeded or failed with its finishing event, or waiting (e.g. for an approval).</summary>
public sealed record StepResult(StepOutcome Outcome, object? FinishingEvent, string? Reason, bool Waiting)
{
    public static StepResult Succeeded(object finishingEvent) => new(StepOutcome.Succeeded, finishingEvent, null, false);

    public static StepResult Failed(object finishingEvent, string reason) => new(StepOutcome.Failed, finishingEvent, reason, false);

    /// <summary>Nothing to emit now; the step is scheduled again when the awaited event arrives.</summary>
    public static StepResult Wait() => new(StepOutcome.Skipped, null, null, true);
}
