using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Slipway.Contracts;

/// <summary>
/// What every step event (build, test, smoke test, publish, deploy; started, succeeded or failed)
/// carries, so a consumer can track progress without knowing each type. The run id is in the envelope.
/// </summary>
public interface IStepEvent : IPipelineEvent
{
    /// <summary>The stage of the run's plan the step belongs to.</summary>
    [Description("The stage of the run's plan the step belongs to.")]
    string Stage { get; }

    /// <summary>The step's name, unique within the run's plan.</summary>
    [Description("The step's name, unique within the run's plan.")]
    string Step { get; }

    /// <summary>1 for the first try; higher when the step was retried (e.g. after a worker crashed).</summary>
    [Description("1 for the first try; higher when the step was retried (e.g. after a worker crashed).")]
    int Attempt { get; }

    /// <summary>When this attempt started.</summary>
    [Description("When this attempt started.")]
    DateTimeOffset StartedAt { get; }
}

/// <summary>A step event that ends an attempt, well or badly.</summary>
public interface IStepFinishedEvent : IStepEvent
{
    /// <summary>When this attempt ended.</summary>
    [Description("When this attempt ended.")]
    DateTimeOffset FinishedAt { get; }

    /// <summary>Wall-clock duration of this attempt in milliseconds.</summary>
    [Description("Wall-clock duration of this attempt in milliseconds.")]
    long DurationMs { get; }
}

/// <summary>A step event that ends an attempt in failure.</summary>
public interface IStepFailedEvent : IStepFinishedEvent
{
    /// <summary>Why it failed, one line, for humans (shown in Gerrit).</summary>
    [Description("Why it failed, one line, for humans (shown in Gerrit).")]
    string Reason { get; }
}

/// <summary>A step event that carries the tail of the step's output (what Gerrit shows as the excerpt).</summary>
public interface IStepOutputEvent : IStepEvent
{
    string? OutputTail { get; }
}

/// <summary>
/// The header every step event record carries, declared once: the step it reports (stage, step, attempt) and when
/// the attempt started. Records of started steps derive from it, records of finished ones from
/// <see cref="StepFinishedEvent"/>. The run-tracking plumbing writes it (<c>StepExecution.Started</c> and
/// <c>Finished</c> in Slipway.Runs); a performer writes only what is particular to its step.
/// </summary>
/// <remarks>
/// The JSON is unchanged: the header's fields come first, beside the record's own (<see cref="JsonPropertyOrderAttribute"/>), and stay required
/// (<see cref="JsonRequiredAttribute"/> instead of C# <c>required</c>, so a record can be made before its header is written).
/// </remarks>
public abstract record StepEvent : IStepEvent
{
    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-6), MaxLength(128)] public string Stage { get; init; } = "";

    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-5), MaxLength(128)] public string Step { get; init; } = "";

    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-4), Range(1, int.MaxValue)] public int Attempt { get; init; }

    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-3)] public DateTimeOffset StartedAt { get; init; }
}

/// <summary>The header of a step event that ends an attempt: <see cref="StepEvent"/>'s, plus when it ended and how long it took.</summary>
public abstract record StepFinishedEvent : StepEvent, IStepFinishedEvent
{
    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-2)] public DateTimeOffset FinishedAt { get; init; }

    /// <inheritdoc/>
    [JsonRequired, JsonPropertyOrder(-1), Range(0, long.MaxValue)] public long DurationMs { get; init; }
}

/// <summary>An event of a pipeline run, carried on <c>pipeline.events</c> (step events, approvals, rollbacks, run start and end).</summary>
public interface IPipelineEvent;
