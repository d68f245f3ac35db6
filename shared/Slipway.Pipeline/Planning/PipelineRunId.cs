using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// The run id of each pipeline a trigger runs (one run per entry of <see cref="PlanningResult.Order"/>): the first keeps
/// the trigger's id, so a single-pipeline repository's run is the trigger's; every other derives its own from the
/// trigger's and its name. The planner (for <c>${setup.logURL}</c>) and the builder (for the runs it starts) both ask
/// here, so the link in a plan always names the run that executes it.
/// </summary>
public static class PipelineRunId
{
    /// <param name="order">The pipelines in run order; only entries up to <paramref name="index"/> are read, so the planner
    /// may ask while it is still appending to the order.</param>
    public static string Of(string triggerRunId, IReadOnlyList<string> order, int index) =>
        index == 0 ? triggerRunId : DeterministicId.From(triggerRunId, order[index]);
}
