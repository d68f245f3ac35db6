using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>trigger</c>: a <c>&lt;stage&gt;-trigger</c> step after the stage's other steps, with the job and its
/// interpolated parameters; post-merge only (a patch set's run leaves such a pipeline out, as PipelineLib's validation does).
/// </summary>
public class TriggerPlanTests
{
    private const string Config = """
        pipelines:
          p:
            blubberfile: blubber.yaml
            stages:
              - name: s
                build: test
                run: true
                trigger:
                  name: docs-job
                  propagate: false
                  parameters:
                    VERSION: '${setup.commit}'
                    STAGE: '${.stage}'
        """;

    [Fact]
    public void A_trigger_is_a_step_after_the_stages_others_with_its_interpolated_parameters()
    {
        var plan = Single(PlanConfig(Config, TriggerKind.Merge));
        var steps = plan.Stages.Single().Steps;
        Assert.Equal(["s-build", "s-run", "s-trigger"], steps.Select(x => x.Name));
        var trigger = steps[^1];
        Assert.Equal(StepKind.Trigger, trigger.Kind);
        Assert.Equal("docs-job", trigger.Trigger!.Job);
        Assert.Equal(new Dictionary<string, string> { ["VERSION"] = Sha, ["STAGE"] = "s" }, trigger.Trigger.Parameters);
    }

    [Fact]
    public void A_patch_set_run_leaves_a_triggering_pipeline_out() =>
        Assert.Empty(PlanConfig(Config, TriggerKind.Patchset).Plans);

    [Theory]
    [InlineData("                trigger: {name: '${s.output}'}\n", "`trigger.name` uses `${s.output}`, which is known only while the run executes")]
    [InlineData("                trigger: {name: j, wait: true}\n", "`trigger.wait: true` is refused")]
    public void Runtime_values_and_waiting_are_refused(string trigger, string message)
    {
        var refusal = Assert.Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: true\n"
            + trigger.Replace("                ", "        "), TriggerKind.Merge).Refused);
        Assert.Contains(message, refusal.Message);
    }
}
