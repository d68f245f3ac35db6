using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>What triggered the run being planned; <paramref name="Now"/> gives <c>setup.timestamp</c>.</summary>
public sealed record PlanningContext(TriggerKind Trigger, string Project, string? Branch, string Revision, DateTimeOffset Now, string? Tag = null);

/// <summary>
/// The plans for one trigger, one per pipeline to run. <see cref="HasPipeline"/> is false when the repo has no
/// <c>.pipeline/config.yaml</c> nor <c>.pipeline/blubber.yaml</c>. With <see cref="Error"/> set there are no plans.
/// </summary>
public sealed record PlanningResult(IReadOnlyList<RunPlan> Plans, string? Error, bool HasPipeline);
