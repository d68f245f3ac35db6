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

    [Fact]
    public void A_stage_after_a_stage_without_steps_waits_for_that_stages_predecessors()
    {
        // x → (copy-only y, no steps) → z: z starts once x is done, never at the run's start.
        var plan = new RunPlan
        {
            Pipeline = "p",
            Stages =
            [
                new PlanStage { Name = "x", Steps = [Step("x-build", StepKind.Build), Step("x-run", StepKind.Test)] },
                new PlanStage { Name = "y", Steps = [] },
                new PlanStage { Name = "z", Steps = [Step("z-build", StepKind.Build)] },
            ],
            Graph =
            [
                new PlanGraphNode { Stage = "x", DependsOn = [] }, new PlanGraphNode { Stage = "y", DependsOn = ["x"] },
                new PlanGraphNode { Stage = "z", DependsOn = ["y"] },
            ],
        };
        string[] ReadyIn(params string[] succeeded) => new PlanProgress(plan).Ready(succeeded.ToHashSet()).Select(s => s.Step.Name).ToArray();
        Assert.Equal(["x-build"], ReadyIn());
        Assert.Equal(["x-run"], ReadyIn("x-build"));
        Assert.Equal(["z-build"], ReadyIn("x-build", "x-run"));
        // x failed: z never starts, and the run is settled.
        var progress = new PlanProgress(plan);
        Assert.Equal(["x-run", "z-build"], progress.Blocked(new HashSet<string>(), new HashSet<string> { "x-build" }).Order().ToArray());
        Assert.True(progress.Settled(new HashSet<string>(), new HashSet<string> { "x-build" }));
    }

    private static string[] ReadyAfterFailure(string[] failed, params string[] succeeded) =>
        new PlanProgress(Plan).Ready(succeeded.ToHashSet(), failed.ToHashSet()).Select(s => s.Step.Name).ToArray();

    [Fact]
    public void A_failed_step_stops_only_what_depends_on_it_and_the_parallel_branch_runs_on()
    {
        // a-build failed while b-build runs: b goes on; a-run and everything after a (c, d) never start.
        Assert.Equal(["b-build"], ReadyAfterFailure(["a-build"]));
        Assert.Empty(ReadyAfterFailure(["a-build"], "b-build"));
        var progress = new PlanProgress(Plan);
        Assert.Equal(["a-run", "c-build", "c-publish"],
            progress.Blocked(new HashSet<string>(), new HashSet<string> { "a-build" }).Order().ToArray());
        Assert.False(progress.Settled(new HashSet<string>(), new HashSet<string> { "a-build" })); // b-build still to run
        Assert.True(progress.Settled(new HashSet<string> { "b-build" }, new HashSet<string> { "a-build" }));
        Assert.True(progress.Settled(new HashSet<string>(), new HashSet<string> { "a-build", "b-build" }));
        // A failure late in the graph blocks only its stage's later steps.
        Assert.Equal(["c-publish"], progress.Blocked(new HashSet<string> { "a-build", "a-run", "b-build" }, new HashSet<string> { "c-build" }).ToArray());
        Assert.True(progress.Settled(new HashSet<string> { "a-build", "a-run", "b-build" }, new HashSet<string> { "c-build" }));
    }

    private static RunState Run(RunPlan plan, params (string Step, StepOutcome Outcome, string? Reason)[] steps) =>
        new("run-1", new RunStarted
        {
            Plan = plan, StartedAt = DateTimeOffset.UnixEpoch,
            Trigger = new RunTrigger { Kind = TriggerKind.Patchset, Project = "p", Ref = "refs/changes/01/1/1", Revision = new string('a', 40) },
        },
            steps.ToDictionary(s => s.Step, s => new StepRecord(s.Outcome, 1, 10,
                System.Text.Json.JsonSerializer.SerializeToElement(new { reason = s.Reason }))),
            new Dictionary<string, string>(), null);

    [Fact]
    public void A_settled_run_fails_naming_every_failed_step_with_its_reason()
    {
        var run = Run(Plan, ("a-build", StepOutcome.Failed, "no base image"), ("b-build", StepOutcome.Failed, "bad variant"));
        Assert.True(run.Settled);
        var finished = RunFinishedFactory.Settled(run, DateTimeOffset.UnixEpoch.AddSeconds(5));
        Assert.Equal(RunOutcome.Failed, finished.Outcome);
        Assert.Equal("a-build", finished.FailedStep);
        Assert.Equal("a-build failed: no base image; b-build failed: bad variant", finished.Reason);
        Assert.Equal([StepOutcome.Failed, StepOutcome.Skipped, StepOutcome.Failed, StepOutcome.Skipped, StepOutcome.Skipped],
            finished.Steps.Select(s => s.Outcome).ToArray());
    }

    [Fact]
    public void A_failed_run_does_not_wait_for_an_approval_on_its_other_branch()
    {
        var plan = new RunPlan
        {
            Pipeline = "p",
            Stages =
            [
                new PlanStage { Name = "a", Steps = [Step("a-run", StepKind.Test)] },
                new PlanStage
                {
                    Name = "b", Steps = [new PlanStep { Name = "b-deploy", Kind = StepKind.Deploy, Deploy = new DeployParams { Environment = "production", RequiresApproval = true } }],
                },
            ],
            Graph = [new PlanGraphNode { Stage = "a", DependsOn = [] }, new PlanGraphNode { Stage = "b", DependsOn = [] }],
        };
        Assert.Equal(["a-run", "b-deploy"], Run(plan).Due.Select(d => d.Step.Name).ToArray());
        var failed = Run(plan, ("a-run", StepOutcome.Failed, "exit 1"));
        Assert.Empty(failed.Due);
        Assert.True(failed.Settled);
        Assert.Equal(RunOutcome.Succeeded, RunFinishedFactory.Settled(Run(plan, ("a-run", StepOutcome.Succeeded, null),
            ("b-deploy", StepOutcome.Succeeded, null)), DateTimeOffset.UnixEpoch).Outcome);
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
