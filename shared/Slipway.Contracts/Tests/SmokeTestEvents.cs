using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>The tester started the production image in isolation and is checking it from outside.</summary>
[EventType("slipway.smoke-test.started.v1")]
[Description("The tester started the image in isolation and began checking it from outside (liveness/readiness, OpenAPI x-amples).")]
public sealed record SmokeTestStarted : StepEvent
{
    /// <summary>The image under test.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>The reference the image was reached by.</summary>
    [MaxLength(1024)] public string? ImageRef { get; init; }
}

/// <summary>Every smoke check passed. On a merge run, the publisher's cue.</summary>
[EventType("slipway.smoke-test.succeeded.v1")]
[Description("Every smoke check passed.")]
public sealed record SmokeTestSucceeded : StepFinishedEvent
{
    /// <summary>The image tested.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>Number of checks that passed.</summary>
    [Range(0, int.MaxValue)] public required int ChecksPassed { get; init; }

    /// <summary>Number of checks that failed (0 here).</summary>
    [Range(0, int.MaxValue)] public required int ChecksFailed { get; init; }

    /// <summary>The checks, at most 100.</summary>
    [MaxLength(100)] public IReadOnlyList<SmokeCheck>? Checks { get; init; }
}

/// <summary>A smoke check failed, or the service never became ready.</summary>
[EventType("slipway.smoke-test.failed.v1")]
[Description("A smoke check failed, or the service never became ready.")]
public sealed record SmokeTestFailed : StepFinishedEvent, IStepFailedEvent, IStepOutputEvent
{
    /// <summary>The image tested; absent when the step failed before an image was found for it.</summary>
    [Description("The image tested; absent when the step failed before an image was found for it.")]
    [RegularExpression(ContractPatterns.ImageId)] public string? ImageId { get; init; }

    /// <summary>Number of checks that passed.</summary>
    [Range(0, int.MaxValue)] public required int ChecksPassed { get; init; }

    /// <summary>Number of checks that failed.</summary>
    [Range(0, int.MaxValue)] public required int ChecksFailed { get; init; }

    /// <summary>The checks, at most 100 (failed ones first).</summary>
    [MaxLength(100)] public IReadOnlyList<SmokeCheck>? Checks { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }

    /// <summary>The last lines of the service container's log.</summary>
    [Description(Output.TailDescription)]
    [MaxLength(Output.TailMaxChars)] public string? OutputTail { get; init; }
}

/// <summary>One smoke check: a request and whether the answer was what the spec expects.</summary>
[Description("One smoke check and its result.")]
public sealed record SmokeCheck
{
    /// <summary>What was checked, e.g. <c>readiness</c> or <c>GET /v1/items/{id}: retrieve an item</c>.</summary>
    [Description("What was checked, e.g. readiness or GET /v1/items/{id}: retrieve an item.")]
    [MaxLength(512)] public required string Name { get; init; }

    /// <summary>True when it passed.</summary>
    [Description("True when it passed.")]
    public required bool Passed { get; init; }

    /// <summary>What went wrong (expected vs got), for a failed check.</summary>
    [Description("What went wrong (expected vs got), for a failed check.")]
    [MaxLength(2048)] public string? Detail { get; init; }

    /// <summary>How long it took in milliseconds.</summary>
    [Description("How long it took in milliseconds.")]
    [Range(0, long.MaxValue)] public long? DurationMs { get; init; }
}
