using Slipway.Contracts;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>notify</c>: a stage's <c>notify.email</c> merged over its pipeline's, with PipelineLib's default subject
/// and body, interpolated into the plan (the service recording a failed step emits <c>notify.requested</c> with it).
/// </summary>
public class NotifyPlanTests
{
    [Fact]
    public void The_stages_notify_is_merged_over_the_pipelines_with_pipelinelibs_defaults()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                notify:
                  email: {to: team@example.org}
                stages:
                  - name: unit
                    build: test
                    run: true
                  - name: lint
                    build: lint
                    run: true
                    notify:
                      email:
                        to: [a@example.org, '${setup.projectShortName}@example.org']
                        subject: 'lint of ${setup.commit} failed'
            """));
        var unit = plan.Stages.Single(s => s.Name == "unit").Notify!;
        Assert.Equal(["team@example.org"], unit.To);
        Assert.Equal("[Pipeline] foo p/unit failed", unit.Subject);
        Assert.Equal("Pipeline p for project mediawiki/services/foo failed during\nstage unit. See the log for details: ", unit.Body);
        var lint = plan.Stages.Single(s => s.Name == "lint").Notify!;
        Assert.Equal(["a@example.org", "foo@example.org"], lint.To);
        Assert.Equal($"lint of {Sha} failed", lint.Subject);
    }

    /// <summary>PipelineLib joined the entries with ',' for Jenkins' mail step: an entry may list several addresses.</summary>
    [Fact]
    public void An_entry_may_be_a_comma_separated_list_of_recipients()
    {
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    notify: {email: {to: ['a@example.org, b@example.org', c@example.org]}}\n    stages: [{name: unit}]\n"));
        Assert.Equal(["a@example.org", "b@example.org", "c@example.org"], plan.Stages[0].Notify!.To);
        var many = string.Join(",", Enumerable.Range(0, 51).Select(i => $"r{i}@example.org"));
        Assert.Contains("`notify.email.to` must list 1 to 50 addresses", Error(PlanConfig($"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    notify: {{email: {{to: '{many}'}}}}\n    stages: [{{name: unit}}]\n")));
    }

    [Fact]
    public void No_notify_means_none_in_the_plan() =>
        Assert.Null(Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: unit\n        build: test\n")).Stages[0].Notify);

    [Theory]
    [InlineData("email: {to: ', ,'}", "`notify.email.to` must list 1 to 50 addresses")]
    [InlineData("email: {to: \"a@x\\u0007\"}", "`notify.email.to` must list 1 to 50 addresses")]
    [InlineData("email: {subject: hi}", "`notify.email.to` is required")]
    public void Bad_recipients_are_refused(string notify, string message)
    {
        var refusal = Assert.Single(PlanConfig($"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: unit\n        build: test\n        notify: {{{notify}}}\n").Refused);
        Assert.Contains(message, refusal.Message);
    }
}
