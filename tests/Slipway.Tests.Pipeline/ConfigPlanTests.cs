using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

public class ConfigPlanTests
{
    // Shaped like PipelineLib's systemtests/repo1: several pipelines, parallel arcs joining, shorthand stages.
    private const string Repo1 = """
        pipelines:
          test:
            blubberfile: blubber.yaml
            stages:
              - name: unit
              - name: lint
              - name: candidate
                build: production
                run:
                  arguments: [--version]
            execution:
              - [unit, candidate]
              - [lint, candidate]
          publish:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image: true
              - name: deploy
                deploy:
                  image: '${production.imageName}'
                  tag: '${production.imageTag}'
                  chart:
                    name: foo
          own:
            stages:
              - name: test
        """;

    [Fact]
    public void Patchset_runs_only_pipelines_without_post_merge_actions()
    {
        var r = PlanConfig(Repo1, pipelineDirs: "own");
        Assert.Null(r.Error);
        Assert.True(r.HasPipeline);
        Assert.Equal(["test", "own"], r.Plans.Select(p => p.Pipeline));
        Assert.All(r.Plans, p => Assert.Equal(".pipeline/config.yaml", p.ConfigPath));
    }

    [Fact]
    public void Parallel_arcs_join_and_shorthand_stages_build_and_run_their_variant()
    {
        var plan = PlanConfig(Repo1, pipelineDirs: "own").Plans[0];
        Assert.Equal(["unit", "lint", "candidate"], plan.Stages.Select(s => s.Name));
        Assert.Empty(Deps(plan, "unit"));
        Assert.Empty(Deps(plan, "lint"));
        Assert.Equal(["unit", "lint"], Deps(plan, "candidate"));
        Assert.Equal(["unit-build", "unit-run"], StepNames(plan.Stages[0]));
        Assert.Equal(new BuildParams { Variant = "unit", Blubberfile = ".pipeline/blubber.yaml", Context = "." }, Step(plan, "unit-build").Build);
        Assert.Equal("unit-build", Step(plan, "unit-run").Run!.ImageFrom);
        Assert.Equal("production", Step(plan, "candidate-build").Build!.Variant);
        Assert.Equal(["--version"], Step(plan, "candidate-run").Run!.Arguments);
    }

    [Fact]
    public void Blubberfile_defaults_to_the_pipelines_own_directory()
    {
        var plan = PlanConfig(Repo1, pipelineDirs: "own").Plans[1];
        Assert.Equal(".pipeline/own/blubber.yaml", Step(plan, "test-build").Build!.Blubberfile);
    }

    [Fact]
    public void Missing_default_blubberfile_is_pipelinelibs_error_on_that_build_only()
    {
        var r = PlanConfig(Repo1);
        Assert.Null(r.Error);
        Assert.Empty(r.Refused);
        Assert.Equal(["test", "own"], r.Plans.Select(p => p.Pipeline));
        Assert.Equal("failed to build image: no Blubber config found at .pipeline/own/blubber.yaml", Step(r.Plans[1], "test-build").Build!.Refusal);
        Assert.Null(Step(r.Plans[0], "unit-build").Build!.Refusal);
        Assert.Equal(["test", "own"], r.Order);
        Assert.Equal([new PipelineSkip("publish", "uses publish, deploy, allowed only after merge")], r.Skipped);
    }

    [Theory]
    [InlineData(TriggerKind.Merge)]
    [InlineData(TriggerKind.RefUpdate)]
    public void Post_merge_runs_every_pipeline_with_publish_and_deploy(TriggerKind trigger)
    {
        var r = PlanConfig(Repo1, trigger, pipelineDirs: "own");
        Assert.Null(r.Error);
        Assert.Equal(["test", "publish", "own"], r.Plans.Select(p => p.Pipeline));
        var plan = r.Plans[1];
        Assert.Equal(["production-build", "production-publish"], StepNames(plan.Stages[0]));
        var publish = Step(plan, "production-publish").Publish!;
        Assert.Equal("production-build", publish.ImageFrom);
        Assert.Equal("mediawiki-services-foo", publish.Name);
        Assert.Null(publish.Tags);
        var deploy = Step(plan, "deploy-deploy");
        Assert.Equal(StepKind.Deploy, deploy.Kind);
        Assert.Equal(new DeployParams { Environment = "ci", Service = "foo", RequiresApproval = false, ImageFrom = "production-publish" }, deploy.Deploy);
        Assert.Equal(["production"], Deps(plan, "deploy"));
    }

    [Fact]
    public void Filter_names_pipelines_and_unknown_is_pipelinelibs_error()
    {
        var r = PlanConfig(Repo1, options: new PlanningOptions { Pipelines = ["test"] });
        Assert.Equal(["test"], r.Plans.Select(p => p.Pipeline));
        Assert.Equal("Pipeline 'nope' is not defined in project's '.pipeline/config.yaml'",
            Error(PlanConfig(Repo1, options: new PlanningOptions { Pipelines = ["nope"] })));
    }

    [Fact]
    public void Asking_for_a_post_merge_pipeline_on_a_patchset_is_refused_as_not_allowed()
    {
        var error = Error(PlanConfig(Repo1, options: new PlanningOptions { Pipelines = ["publish"] }));
        Assert.Equal("""
            Pipeline configuration validation failed:
             - stage `production` contains an action (`publish`) that is not allowed by this pipeline
             - stage `deploy` contains an action (`deploy`) that is not allowed by this pipeline
            """.ReplaceLineEndings("\n"), error);
    }

    [Fact]
    public void Default_execution_is_sequential_in_declaration_order()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages: [{name: unit}, {name: lint}, {name: candidate}]
            """));
        Assert.Empty(Deps(plan, "unit"));
        Assert.Equal(["unit"], Deps(plan, "lint"));
        Assert.Equal(["lint"], Deps(plan, "candidate"));
    }

    [Fact]
    public void Execution_only_nodes_are_empty_stages_and_undeclared_order_follows()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages: [{name: unit}]
                execution:
                  - [unit, gate]
            """));
        Assert.Equal(["unit", "gate"], plan.Stages.Select(s => s.Name));
        Assert.Empty(plan.Stages[1].Steps);
        Assert.Equal(["unit"], Deps(plan, "gate"));
    }

    [Fact]
    public void Build_object_directory_and_paths_resolve_inside_the_repo()
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/config.yaml"] = """
                pipelines:
                  p:
                    blubberfile: ../blubber-root.yaml
                    directory: src/service
                    stages:
                      - name: s
                        build:
                          variant: lint
                          context: ./sub/../app
                          imagePullPolicy: never
            """,
            ["blubber-root.yaml"] = Blubber,
        };
        var plan = Single(Repo.Plan(files));
        Assert.Equal(new BuildParams { Variant = "lint", Blubberfile = "blubber-root.yaml", Context = "src/service/app" }, Step(plan, "s-build").Build);
        Assert.Equal(["s-build"], StepNames(plan.Stages[0]));
    }

    [Fact]
    public void Run_object_with_env_tail_and_another_stages_image()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: build
                    build: test
                  - name: check
                    run:
                      image: '${build.imageID}'
                      arguments: ['--project=${setup.project}', '${HOME}']
                      env:
                        COMMIT: '${setup.commit}'
                        PORT: 8080
                      tail: 5
            """));
        Assert.Equal(["build-build"], StepNames(plan.Stages[0]));
        var run = Step(plan, "check-run").Run!;
        Assert.Equal("build-build", run.ImageFrom);
        Assert.Equal(["--project=mediawiki/services/foo", "${HOME}"], run.Arguments);
        Assert.Equal(new Dictionary<string, string> { ["COMMIT"] = Sha, ["PORT"] = "8080" }, run.Env);
        Assert.Equal(5, run.Tail);
    }

    [Fact]
    public void Exported_image_id_can_be_run_later()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: a
                    build: test
                    exports:
                      img: '${.imageID}'
                      label: 'v-${setup.branch}'
                  - name: b
                    run:
                      image: '${a.img}'
                      arguments: ['${a.label}']
            """));
        Assert.Equal("a-build", Step(plan, "b-run").Run!.ImageFrom);
        Assert.Equal(["v-master"], Step(plan, "b-run").Run!.Arguments);
    }

    [Fact]
    public void Publish_object_name_and_tags_are_sanitized()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish:
                      image:
                        name: 'Foo-Extra'
                        tags: ['${setup.tag}', 'stable/1', '']
            """, TriggerKind.RefUpdate, tag: "refs/tags/v1.2"));
        var publish = Step(plan, "production-publish").Publish!;
        Assert.Equal("foo-extra", publish.Name);
        Assert.Equal(["v1.2", "stable-1"], publish.Tags);
    }

    [Fact]
    public void Publish_name_must_belong_to_the_project()
    {
        var error = Error(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {image: {name: other}}
            """, TriggerKind.Merge));
        Assert.Equal("pipeline `p`: stage `production`: image name `other` must match or be prefixed by the full or short project name (`mediawiki-services-foo` or `foo`)", error);
    }

    [Fact]
    public void Promote_items_become_promote_steps()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {image: true}
                    promote:
                      - environments: [staging]
                      - chart: other
                        environments: [eqiad, codfw]
            """, TriggerKind.Merge, PlanningOptions.Default with { ServiceOwners = new Dictionary<string, string> { ["other"] = "mediawiki/services/foo" } }));
        Assert.Equal(["production-build", "production-publish", "production-promote", "production-promote-2"], StepNames(plan.Stages[0]));
        Assert.Equal("foo", Step(plan, "production-promote").Promote!.Chart);
        Assert.Equal(["staging"], Step(plan, "production-promote").Promote!.Environments);
        Assert.Equal("other", Step(plan, "production-promote-2").Promote!.Chart);
    }

    [Fact]
    public void Promote_without_publish_has_no_image_tag()
    {
        var error = Error(PlanConfig("""
            pipelines:
              p:
                stages:
                  - name: release
                    promote: true
            """, TriggerKind.Merge));
        Assert.StartsWith("pipeline `p`: stage `release`: no value bound for 'release.imageTag'; all available variables are: [setup.pipeline, ", error);
    }

    [Theory]
    [InlineData("copy: [dist/]", "pipeline `p`: stage `s`: `copy` copies files out of this stage's run container (`${.container}`), and stage `s` has no `run`")]
    [InlineData("run: {image: 'sha256:abc'}", "pipeline `p`: stage `s`: `run.image` must be the image a build in this run produced (`${.imageID}` or `${<stage>.imageID}`); Slipway runs only images it built")]
    [InlineData("build: test\n        run: {credentials: [{id: secret, name: TOKEN}]}", "pipeline `p`: stage `s`: Invalid Credential: 'secret'. Allowed credentials for mediawiki/services/foo: [] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)")]
    public void Unsupported_actions_are_refused_clearly(string stageYaml, string expected)
    {
        var error = Error(PlanConfig($"""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: s
                    {stageYaml}
            """, TriggerKind.Merge));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Notify_and_exports_are_accepted()
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
                    notify:
                      email:
                        to: [a@example.org]
                        subject: 'failed ${.stage}'
                    exports:
                      x: y
            """));
        Assert.Equal(["unit-build", "unit-run"], StepNames(plan.Stages[0]));
    }

    [Fact]
    public void Run_without_build_has_no_image_id()
    {
        var error = Error(PlanConfig("pipelines:\n  p:\n    stages:\n      - name: s\n        run: true\n"));
        Assert.StartsWith("pipeline `p`: stage `s`: no value bound for 's.imageID'; all available variables are: [", error);
    }

    [Fact]
    public void Variant_missing_from_blubber_file_refuses_its_build_step_at_plan_time()
    {
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: nosuch\n"));
        var refusal = Step(plan, "nosuch-build").Build!.Refusal;
        Assert.StartsWith(".pipeline/blubber.yaml: variant \"nosuch\" is not defined", refusal);
        Assert.Equal([$"stage `nosuch`: {refusal}; its build fails and the steps that need its image do not run"], plan.Notes);
    }
}
