using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Tests.Pipeline;

/// <summary>How a run moves through its plan: steps in stage order, stages after their predecessors in the graph.</summary>
public sealed class PlanProgressTests
{
    private static PlanStep Step(string name, StepKind kind) => new() { Name = name, Kind = kind };

    // a → c, b → c (a and b in parallel), plus an empty stage d after c (named only in `execution`).
    private static readonly RunPlan Plan = new()
    {
        Pipeline = "p",
        Stages =
        [
            new PlanStage { Name = "a", Steps = [Step("a-build", StepKind.Build), Step("a-run", StepKind.Test)] },
            new PlanStage { Name = "b", Steps = [Step("b-build", StepKind.Build)] },
            new PlanStage { Name = "c", Steps = [Step("c-build", StepKind.Build), Step("c-publish", StepKind.Publish)] },
            new PlanStage { Name = "d", Steps = [] },
        ],
        Graph =
        [
            new PlanGraphNode { Stage = "a", DependsOn = [] }, new PlanGraphNode { Stage = "b", DependsOn = [] },
            new PlanGraphNode { Stage = "c", DependsOn = ["a", "b"] }, new PlanGraphNode { Stage = "d", DependsOn = ["c"] },
        ],
    };

    private static string[] Ready(params string[] succeeded) =>
        new PlanProgress(Plan).Ready(succeeded.ToHashSet()).Select(s => s.Step.Name).ToArray();

    [Fact]
    public void Roots_start_together_and_a_stage_waits_for_all_its_predecessors()
    {
        Assert.Equal(["a-build", "b-build"], Ready());
        Assert.Equal(["a-run", "b-build"], Ready("a-build"));
        Assert.Equal(["b-build"], Ready("a-build", "a-run"));
        Assert.Equal(["c-build"], Ready("a-build", "a-run", "b-build"));
        Assert.Equal(["c-publish"], Ready("a-build", "a-run", "b-build", "c-build"));
    }

    [Fact]
    public void A_run_is_complete_when_every_step_succeeded_and_empty_stages_need_nothing()
    {
        var progress = new PlanProgress(Plan);
        Assert.False(progress.Complete(new HashSet<string> { "a-build", "a-run", "b-build", "c-build" }));
        Assert.True(progress.Complete(new HashSet<string> { "a-build", "a-run", "b-build", "c-build", "c-publish" }));
        Assert.Empty(Ready("a-build", "a-run", "b-build", "c-build", "c-publish"));
        Assert.Equal(5, progress.Count);
        Assert.Equal(3, progress.IndexOf("c-build"));
    }

    [Theory]
    [InlineData("slipway.smoke-test.failed.v1", StepKind.Smoke, StepEventKinds.Phase.Failed)]
    [InlineData("slipway.build.started.v1", StepKind.Build, StepEventKinds.Phase.Started)]
    [InlineData("slipway.deploy.succeeded.v1", StepKind.Deploy, StepEventKinds.Phase.Succeeded)]
    public void Step_event_types_name_their_kind_and_phase(string type, StepKind kind, StepEventKinds.Phase phase) =>
        Assert.Equal((kind, phase), StepEventKinds.Parse(type));

    [Theory]
    [InlineData("slipway.run.started.v1")]
    [InlineData("slipway.approval.granted.v1")]
    [InlineData("slipway.gerrit.event.v1")]
    public void Other_event_types_are_not_step_events(string type) => Assert.Null(StepEventKinds.Parse(type));
}
