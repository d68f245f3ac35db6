using System.Text.Json;
using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>One step's outcome as this service saw it in the run's events; <see cref="Data"/> is the finishing event's data.</summary>
public sealed record StepRecord(StepOutcome Outcome, int Attempt, long? DurationMs, JsonElement? Data);

/// <summary>A run as one stage service knows it: the plan, the steps that finished, approvals, and whether it ended.</summary>
public sealed record RunState(string RunId, RunStarted Started, IReadOnlyDictionary<string, StepRecord> Steps,
    IReadOnlyDictionary<string, string> Approvals, RunOutcome? Outcome)
{
    public PlanProgress Progress => new(Started.Plan);

    public IReadOnlySet<string> Succeeded =>
        Steps.Where(s => s.Value.Outcome == StepOutcome.Succeeded).Select(s => s.Key).ToHashSet();

    /// <summary>Steps whose last attempt failed.</summary>
    public IReadOnlySet<string> Failed =>
        Steps.Where(s => s.Value.Outcome == StepOutcome.Failed).Select(s => s.Key).ToHashSet();

    /// <summary>
    /// Steps that will not start: those that failed, and, once any step failed, those still waiting for a human's
    /// approval (a failed run deploys nothing that needs one, and does not wait for an approver to end).
    /// </summary>
    private IReadOnlySet<string> Stopped
    {
        get
        {
            var failed = Failed;
            if (failed.Count == 0) return failed;
            var stopped = failed.ToHashSet();
            foreach (var (_, step) in Progress.Steps)
                if (!Steps.ContainsKey(step.Name) && step.EnvironmentsNeedingApproval() is { Count: > 0 } envs && !envs.All(Approved))
                    stopped.Add(step.Name);
            return stopped;
        }
    }

    /// <summary>Steps that may start now (or are running): a failed step stops only the steps that depend on it.</summary>
    public IReadOnlyList<(PlanStage Stage, PlanStep Step)> Due => Progress.Ready(Succeeded, Stopped);

    /// <summary>True when nothing of the run can still start or is running, so the run ends (failed when any step failed).</summary>
    public bool Settled => Progress.Settled(Succeeded, Stopped);

    /// <summary>The finishing event data of a succeeded step, read as <typeparamref name="T"/> (e.g. a build's image).</summary>
    public T? ResultOf<T>(string stepName) where T : class =>
        // A failed step's data is its failure event (e.g. publish.failed), not T.
        Steps.TryGetValue(stepName, out var record) && record.Outcome == StepOutcome.Succeeded && record.Data is { } data
            ? data.Deserialize<T>(ContractJson.Options) : null;

    /// <summary>
    /// The image a step works on: the build step named by <paramref name="imageFrom"/>, else the last build step
    /// before it in its stage, else the last build of the run's earlier stages.
    /// </summary>
    public BuildSucceeded? ImageFor(PlanStage stage, PlanStep step, string? imageFrom)
    {
        if (imageFrom is not null) return ResultOf<BuildSucceeded>(imageFrom);
        var before = Progress.Steps.TakeWhile(s => s.Step.Name != step.Name).Where(s => s.Step.Kind == StepKind.Build).ToList();
        var source = before.LastOrDefault(s => s.Stage.Name == stage.Name);
        if (source.Step is null) source = before.LastOrDefault();
        return source.Step is null ? null : ResultOf<BuildSucceeded>(source.Step.Name);
    }

    /// <summary>True when the environment's approval was granted (approvals are per run and environment).</summary>
    public bool Approved(string environment) => Approvals.TryGetValue(environment, out var state) && state == "granted";
}
