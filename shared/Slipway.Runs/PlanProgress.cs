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

    /// <summary>Every step with its stage, in plan order (stages in declaration order, steps in stage order).</summary>
    public IEnumerable<(PlanStage Stage, PlanStep Step)> Steps =>
        Plan.Stages.SelectMany(stage => stage.Steps.Select(step => (stage, step)));

    public (PlanStage Stage, PlanStep Step)? Find(string stepName) =>
        Steps.Where(s => s.Step.Name == stepName).Select(s => ((PlanStage, PlanStep)?)s).FirstOrDefault();

    /// <summary>Steps that may start now: not done, their previous step in the stage done, their stage's predecessors complete.</summary>
    public IReadOnlyList<(PlanStage Stage, PlanStep Step)> Ready(IReadOnlySet<string> succeeded)
    {
        var ready = new List<(PlanStage, PlanStep)>();
        foreach (var stage in Plan.Stages)
        {
            if (!DependenciesOf(stage.Name).All(dep => StageComplete(dep, succeeded))) continue;
            var next = stage.Steps.FirstOrDefault(step => !succeeded.Contains(step.Name));
            if (next is not null) ready.Add((stage, next));
        }
        return ready;
    }

    /// <summary>True when every step of every stage succeeded.</summary>
    public bool Complete(IReadOnlySet<string> succeeded) => Steps.All(s => succeeded.Contains(s.Step.Name));

    /// <summary>Zero-based position of a step in plan order, for "step N of M".</summary>
    public int IndexOf(string stepName) => Steps.Select((s, i) => (s.Step.Name, i)).First(x => x.Name == stepName).i;

    public int Count => Plan.Stages.Sum(s => s.Steps.Count);

    private bool StageComplete(string stageName, IReadOnlySet<string> succeeded) =>
        Plan.Stages.FirstOrDefault(s => s.Name == stageName) is not { } stage || stage.Steps.All(step => succeeded.Contains(step.Name));

    private IEnumerable<string> DependenciesOf(string stageName) =>
        Plan.Graph.FirstOrDefault(n => n.Stage == stageName)?.DependsOn ?? [];
}
