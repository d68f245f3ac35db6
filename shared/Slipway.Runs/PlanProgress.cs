using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// How a run moves through its plan (design.md, "Who moves a run forward"): steps of a stage run in
/// order; a stage starts once every stage it depends on has finished all its steps. Every service
/// applies the same rule to the events it has seen, so no orchestrator is needed.
/// </summary>
public sealed class PlanProgress(RunPlan plan)
{
    public RunPlan Plan { get; } = plan;

    // The plan's stage names: a dependency the plan does not hold counts as complete.
    private readonly HashSet<string> _stages = plan.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every step with its stage, in plan order (stages in declaration order, steps in stage order).</summary>
    public IEnumerable<(PlanStage Stage, PlanStep Step)> Steps =>
        Plan.Stages.SelectMany(stage => stage.Steps.Select(step => (stage, step)));

    public (PlanStage Stage, PlanStep Step)? Find(string stepName) =>
        Steps.Where(s => s.Step.Name == stepName).Select(s => ((PlanStage, PlanStep)?)s).FirstOrDefault();

    /// <summary>Steps that may start now: not done, their previous step in the stage done, their stage's predecessors complete.</summary>
    public IReadOnlyList<(PlanStage Stage, PlanStep Step)> Ready(IReadOnlySet<string> succeeded) => Ready(succeeded, new HashSet<string>());

    /// <summary>
    /// Steps that may start now when some steps failed (or will never start, e.g. one held for an approval in a failed
    /// run): as Jenkins' <c>parallel</c> under PipelineLib, a failure stops only what depends on it; the other branches
    /// run to their end.
    /// </summary>
    public IReadOnlyList<(PlanStage Stage, PlanStep Step)> Ready(IReadOnlySet<string> succeeded, IReadOnlySet<string> failed)
    {
        var blocked = Blocked(succeeded, failed);
        var complete = CompleteStages(succeeded);
        var ready = new List<(PlanStage, PlanStep)>();
        foreach (var stage in Plan.Stages)
        {
            if (!DependenciesOf(stage.Name).All(dep => complete.Contains(dep) || !_stages.Contains(dep))) continue;
            var next = stage.Steps.FirstOrDefault(step => !succeeded.Contains(step.Name));
            if (next is not null && !failed.Contains(next.Name) && !blocked.Contains(next.Name)) ready.Add((stage, next));
        }
        return ready;
    }

    /// <summary>
    /// Steps that can never run because of <paramref name="failed"/>: the later steps of a failed step's stage, and every
    /// step of a stage that waits (directly or not) for a stage that cannot complete.
    /// </summary>
    public IReadOnlySet<string> Blocked(IReadOnlySet<string> succeeded, IReadOnlySet<string> failed)
    {
        var blocked = new HashSet<string>();
        var incomplete = new HashSet<string>(); // stages that will never complete
        // The graph is acyclic (the planner refuses cycles); iterate until nothing changes rather than sorting it.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var stage in Plan.Stages)
            {
                if (incomplete.Contains(stage.Name)) continue;
                var stageBlocked = DependenciesOf(stage.Name).Any(incomplete.Contains);
                var stopped = stageBlocked;
                foreach (var step in stage.Steps)
                {
                    if (stopped && !succeeded.Contains(step.Name)) blocked.Add(step.Name);
                    if (failed.Contains(step.Name)) stopped = true;
                }
                if (!stopped) continue;
                incomplete.Add(stage.Name);
                changed = true;
            }
        }
        return blocked;
    }

    /// <summary>
    /// True when nothing of the run can still start or is running: every step succeeded, failed, or can never run
    /// (<see cref="Blocked"/>). The run ends then; it failed when any step failed.
    /// </summary>
    public bool Settled(IReadOnlySet<string> succeeded, IReadOnlySet<string> failed)
    {
        var blocked = Blocked(succeeded, failed);
        return Steps.All(s => succeeded.Contains(s.Step.Name) || failed.Contains(s.Step.Name) || blocked.Contains(s.Step.Name));
    }

    /// <summary>True when every step of every stage succeeded.</summary>
    public bool Complete(IReadOnlySet<string> succeeded) => Steps.All(s => succeeded.Contains(s.Step.Name));

    /// <summary>Zero-based position of a step in plan order, for "step N of M".</summary>
    public int IndexOf(string stepName) => Steps.Select((s, i) => (s.Step.Name, i)).First(x => x.Name == stepName).i;

    public int Count => Plan.Stages.Sum(s => s.Steps.Count);

    /// <summary>
    /// The stages complete: every step succeeded, and every stage each depends on is complete. So a stage without steps
    /// (one that only copies out of an earlier stage's container, or only exports values) completes after its
    /// predecessors, as a Jenkins stage with nothing in it still runs in its place in the graph, and never lets a later
    /// stage start early. A dependency the plan does not hold counts as complete.
    /// </summary>
    private HashSet<string> CompleteStages(IReadOnlySet<string> succeeded)
    {
        var complete = new HashSet<string>(StringComparer.Ordinal);
        // The graph is acyclic (the planner refuses cycles); iterate until nothing changes rather than sorting it.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var stage in Plan.Stages)
            {
                if (complete.Contains(stage.Name) || !stage.Steps.All(step => succeeded.Contains(step.Name))
                    || !DependenciesOf(stage.Name).All(d => complete.Contains(d) || !_stages.Contains(d))) continue;
                complete.Add(stage.Name);
                changed = true;
            }
        }
        return complete;
    }

    private IEnumerable<string> DependenciesOf(string stageName) =>
        Plan.Graph.FirstOrDefault(n => n.Stage == stageName)?.DependsOn ?? [];
}
