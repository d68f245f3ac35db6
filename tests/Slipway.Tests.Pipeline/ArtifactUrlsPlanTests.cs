using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>${&lt;stage&gt;.artifactURLs}</c>, bound by the stage's <c>copy</c>: with the operator's
/// <c>Pipeline:ArtifactBaseUrl</c> it is planned, like <c>${stage.output}</c>, as a reference to the stage's run step
/// (resolved from its <c>test.succeeded</c>), carrying the base URL, wherever runtime outputs are allowed.
/// </summary>
public class ArtifactUrlsPlanTests
{
    private static readonly PlanningOptions WithBase = PlanningOptions.Default with { ArtifactBaseUrl = "https://ci.example.org/slipway" };

    private const string Config = """
        pipelines:
          p:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: test
                run: true
                copy:
                  - {source: /srv/out/report.txt, archive: true}
                  - /srv/out/dist/
                exports:
                  links: '${.artifactURLs}'
              - name: use
                build: test
                run:
                  arguments: ['--links=${make.artifactURLs}']
                  env: {LINKS: '${make.artifactURLs}', EXPORTED: '${make.links}'}
                notify:
                  email: {to: [team@example.org], body: "links:\n${make.artifactURLs}"}
        """;

    private static RuntimeOutputReference Links(string stage = "make") => new()
    {
        Stage = stage, Name = "artifactURLs", Step = $"{stage}-run", ArtifactBaseUrl = "https://ci.example.org/slipway",
    };

    [Fact]
    public void Artifact_urls_are_planned_as_the_copying_run_steps_output_with_the_base_url()
    {
        var plan = Single(PlanConfig(Config, options: WithBase));
        var run = Step(plan, "use-run");
        Assert.Equal(["--links=${make.artifactURLs}"], run.Run!.Arguments);
        Assert.Equal([new RuntimeTemplatePart { Text = "--links=" }, new RuntimeTemplatePart { Output = Links() }], run.Runtime!["run.arguments[0]"].Parts);
        Assert.Equal([new RuntimeTemplatePart { Output = Links() }], run.Runtime["run.env.LINKS"].Parts);
        Assert.Equal([new RuntimeTemplatePart { Output = Links() }], run.Runtime["run.env.EXPORTED"].Parts); // through `exports`
        var notify = plan.Stages.Single(s => s.Name == "use").Notify!;
        Assert.Equal([new RuntimeTemplatePart { Text = "links:\n" }, new RuntimeTemplatePart { Output = Links() }], notify.Runtime!["body"].Parts);
    }

    [Fact]
    public void Without_the_base_url_the_first_use_is_refused_naming_field_line_and_setting()
    {
        var refusal = Assert.Single(PlanConfig(Config).Refused);
        Assert.Equal("pipeline `p`: stage `use`: `run.arguments[0]` uses `${make.artifactURLs}`, and the operator has not set Pipeline:ArtifactBaseUrl " +
            "(the reporter's public URL, which the artifact links start with), so Slipway has no link to give", refusal.Message);
        Assert.Equal(16, refusal.Line);
    }

    [Fact]
    public void A_stage_that_only_copies_out_of_an_earlier_stages_container_links_through_the_run_step_that_copies_for_it()
    {
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: make\n        build: test\n        run: true\n"
            + "      - name: take\n        copy: [{from: '${make.container}', source: /srv/out/report.txt, archive: true}]\n"
            + "      - name: use\n        build: test\n        run: {env: {LINKS: '${take.artifactURLs}'}}\n", options: WithBase));
        var links = Links("take") with { Step = "make-run" };
        Assert.Equal([new RuntimeTemplatePart { Output = links }], Step(plan, "use-run").Runtime!["run.env.LINKS"].Parts);
    }

    [Fact]
    public void A_stage_whose_copies_come_out_of_two_containers_is_refused_where_its_artifact_urls_are_used()
    {
        var r = PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: make\n        build: test\n        run: true\n"
            + "      - name: take\n        build: test\n        run: true\n"
            + "        copy: [{source: /srv/own.txt, archive: true}, {from: '${make.container}', source: /srv/out/report.txt, archive: true}]\n"
            + "      - name: use\n        build: test\n        run: {env: {LINKS: '${take.artifactURLs}'}}\n", options: WithBase);
        var refusal = Assert.Single(r.Refused);
        Assert.Equal("pipeline `p`: stage `use`: `run.env.LINKS` uses `${take.artifactURLs}`, and stage `take` copies out of more than one "
            + "run container (`take`, `make`): Slipway lists the archived copies of one container per stage", refusal.Message);
        Assert.Equal(14, refusal.Line);
    }

    [Fact]
    public void A_stage_without_copy_binds_no_artifact_urls()
    {
        var r = PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: true\n"
            + "      - name: t\n        build: test\n        run: {arguments: ['${s.artifactURLs}']}\n", options: WithBase);
        Assert.StartsWith("pipeline `p`: stage `t`: no value bound for 's.artifactURLs'", Assert.Single(r.Refused).Message);
    }
}
