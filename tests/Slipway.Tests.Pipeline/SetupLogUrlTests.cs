using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// <c>${setup.logURL}</c>, PipelineLib's link to the run's log (Jenkins' <c>BUILD_URL</c> console), is the reporter's
/// status page of the run that executes the plan: <c>&lt;Pipeline:ArtifactBaseUrl&gt;/runs/&lt;run id&gt;</c>, the id the builder
/// gives that pipeline's run (the first pipeline run keeps the trigger's, the others derive theirs); empty without a base URL.
/// </summary>
public class SetupLogUrlTests
{
    private const string Base = "https://ci.example.org/slipway/";

    // A pipeline whose only step prints `${setup.logURL}`; `publishes` runs only after merge, `typo` is refused.
    private static string Pipeline(string name, string kind) => kind switch
    {
        "publishes" => $"  {name}:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: production\n        run: {{arguments: ['${{setup.logURL}}']}}\n        publish: {{image: true}}\n",
        "typo" => $"  {name}:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        bulid: test\n",
        _ => $"  {name}:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: {{arguments: ['${{setup.logURL}}']}}\n",
    };

    [Theory]
    // One pipeline: the trigger's run.
    [InlineData(new[] { "only" }, "only", "run-1", Base, "https://ci.example.org/slipway/runs/run-1")]
    // Several: the first keeps the trigger's run id, the others are runs of their own (DeterministicId.From(run, name)).
    [InlineData(new[] { "first", "second", "third" }, "first", "run-1", Base, "https://ci.example.org/slipway/runs/run-1")]
    [InlineData(new[] { "first", "second", "third" }, "second", "run-1", Base, "https://ci.example.org/slipway/runs/490f04ce-1c1c-581e-880e-7c606d6dcced")]
    [InlineData(new[] { "first", "second", "third" }, "third", "run-1", Base, "https://ci.example.org/slipway/runs/9f8d4836-b469-5f05-97a9-3eea792f8177")]
    // A pipeline that does not run on a patch set has no run: the next one is first and keeps the trigger's id.
    [InlineData(new[] { "first:publishes", "second" }, "second", "run-1", Base, "https://ci.example.org/slipway/runs/run-1")]
    // A refused pipeline is a (failed) run of its own: the next one is not first.
    [InlineData(new[] { "first:typo", "second" }, "second", "run-1", Base, "https://ci.example.org/slipway/runs/490f04ce-1c1c-581e-880e-7c606d6dcced")]
    // The run id is one percent-encoded path segment.
    [InlineData(new[] { "only" }, "only", "a b/c?d#é", "https://ci.example.org", "https://ci.example.org/runs/a%20b%2Fc%3Fd%23%C3%A9")]
    // No reporter URL configured, or no run (yet): empty, as Jenkins without BUILD_URL.
    [InlineData(new[] { "first", "second" }, "second", "run-1", null, "")]
    [InlineData(new[] { "only" }, "only", null, Base, "")]
    public void Log_url_is_the_status_page_of_the_pipelines_own_run(string[] pipelines, string pipeline, string? runId, string? baseUrl, string expected)
    {
        var config = "pipelines:\n" + string.Concat(pipelines.Select(p => p.Split(':') is [var n, var k] ? Pipeline(n, k) : Pipeline(p, "")));
        var result = Plan(config, runId, baseUrl);

        var plan = result.Plans.Single(p => p.Pipeline == pipeline);
        Assert.Equal([expected], Step(plan, "s-run").Run!.Arguments);
        if (runId is not null && baseUrl is not null)
            // The builder starts this pipeline's run with the same rule, so the link names the run that executes the plan.
            Assert.Equal(RunLinks.StatusPage(baseUrl, PipelineRunId.Of(runId, result.Order, result.Order.ToList().IndexOf(pipeline))), expected);
    }

    [Fact]
    public void PipelineLibs_default_notify_body_links_to_the_failed_run()
    {
        var result = Plan("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    notify:\n      email: {to: team@example.org}\n    stages:\n      - name: unit\n        build: test\n        run: true\n",
            "run-1", Base);
        Assert.Equal("Pipeline p for project mediawiki/services/foo failed during\nstage unit. See the log for details: https://ci.example.org/slipway/runs/run-1",
            Single(result).Stages.Single().Notify!.Body);
    }

    private static PlanningResult Plan(string config, string? runId, string? baseUrl)
    {
        var files = new Dictionary<string, string> { [".pipeline/config.yaml"] = config, [".pipeline/blubber.yaml"] = Blubber };
        return RunPlanner.Plan(p => files.GetValueOrDefault(p), Context() with { RunId = runId }, PlanningOptions.Default with { ArtifactBaseUrl = baseUrl });
    }
}
