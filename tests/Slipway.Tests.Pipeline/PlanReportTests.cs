using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using Slipway.Pipeline.Report;

namespace Slipway.Tests.Pipeline;

/// <summary><c>slipway plan</c>'s output and exit codes, on real files in a temporary working tree.</summary>
public sealed class PlanReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("slipway-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private (int Code, string Out, string Err) Plan(TriggerKind trigger = TriggerKind.Patchset, PlanningOptions? options = null, string? tag = null)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var context = new PlanningContext(trigger, "mediawiki/services/foo", tag is null ? "master" : null, Repo.Sha, Repo.Now, tag);
        var code = PlanReport.Run(_dir, context, options ?? PlanningOptions.Default, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void A_pipeline_fetching_submodules_says_so()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".gitmodules", "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib\n");
        var (code, stdout, _) = Plan();
        Assert.Equal(PlanReport.Ok, code);
        Assert.Contains("\n  sources: the revision with its git submodules (.gitmodules; fetched by the builder from its own git server or allowed URLs only)\n", stdout);
    }

    [Fact]
    public void A_pipeline_fetching_tags_says_so_and_one_without_does_not()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            pipelines:
              tagged:
                blubberfile: blubber.yaml
                fetch: {tags: true}
                stages:
                  - name: test
              plain:
                blubberfile: blubber.yaml
                stages:
                  - name: test
            """);
        var (code, stdout, stderr) = Plan();
        Assert.True(code == PlanReport.Ok, stdout + stderr);
        const string line = "\n  sources: the build's .git holds the project's tags (fetch.tags; fetched by the builder from its own git server)\n";
        Assert.Equal(1, stdout.Split(line).Length - 1);
        Assert.True(stdout.IndexOf(line, StringComparison.Ordinal) < stdout.IndexOf("plain", StringComparison.Ordinal), stdout);
    }

    [Fact]
    public void A_promote_without_environments_says_it_sets_the_charts_main_values_for_every_environment()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            pipelines:
              publish:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish:
                      image: true
                    promote: true
            """);
        var (code, stdout, stderr) = Plan(TriggerKind.Merge);
        Assert.True(code == PlanReport.Ok, stdout + stderr);
        Assert.Contains("\n    production-promote: promote foo in every environment (the chart's main values file)", stdout);
    }

    [Fact]
    public void Blubber_warnings_are_shown_before_pushing()
    {
        // Toolforge's files pin a frontend PipelineLib does not build with, so it is validated as v0.11.1, which still had use-system-flag.
        Write(".pipeline/blubber.yaml", "# syntax=docker-registry.wikimedia.org/repos/releng/blubber:v0.12.1\n" + Repo.Blubber.Replace(
            "variants:", "python: { version: python3, requirements: [], use-system-flag: true }\nvariants:"));
        var (code, stdout, stderr) = Plan();
        Assert.True(code == PlanReport.Ok, stdout + stderr);
        var warnings = stdout.Split('\n').Where(l => l.StartsWith("warning: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.StartsWith("warning: .pipeline/blubber.yaml: # syntax= names docker-registry.wikimedia.org/repos/releng/blubber:v0.12.1, which PipelineLib does not build with", warnings[0]);
        Assert.StartsWith("warning: .pipeline/blubber.yaml: python.use-system-flag (line ", warnings[1]);
    }

    [Fact]
    public void Keys_PipelineLib_ignores_are_noted_and_the_plan_still_succeeds()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            version: 2
            pipelines:
              test:
                blubberfile: blubber.yaml
                owner: search-team
                stages:
                  - name: unit
            """);
        var (code, stdout, stderr) = Plan();
        Assert.Equal("", stderr);
        Assert.Equal(PlanReport.Ok, code);
        Assert.Equal("""
            .pipeline/config.yaml: patchset run of mediawiki/services/foo on master
            note: .pipeline/config.yaml:1: config: key `version` is ignored: PipelineLib's schema allows other keys here and its code reads only pipelines

            pipeline test: 1 stage(s), 2 step(s)
              execution:
                1. unit
              stages:
                unit
                  unit-build: build variant unit from .pipeline/blubber.yaml, context .
                  unit-run: run the image of unit-build
              images built:
                unit-build: variant unit of .pipeline/blubber.yaml
              publishes: nothing
              deploys: nothing
              note: .pipeline/config.yaml: line 5: pipelines.test: key `owner` is ignored: PipelineLib's schema allows other keys here and its code reads only blubberfile, directory, fetch, notify, execution, stages

            """.ReplaceLineEndings("\n"), stdout);
    }

    [Fact]
    public void Prints_pipelines_stages_steps_graph_images_and_what_is_published()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            pipelines:
              test:
                blubberfile: blubber.yaml
                stages:
                  - name: unit
                  - name: lint
                  - name: candidate
                    build: {variant: production, excludes: [node_modules]}
                    run: {arguments: [--version]}
                    publish:
                      image: {tags: [stable]}
                execution:
                  - [unit, candidate]
                  - [lint, candidate]
            """);
        var (code, stdout, stderr) = Plan(TriggerKind.Merge);
        Assert.Equal("", stderr);
        Assert.Equal(PlanReport.Ok, code);
        Assert.Equal("""
            .pipeline/config.yaml: merge run of mediawiki/services/foo on master

            pipeline test: 3 stage(s), 7 step(s)
              execution:
                1. unit | lint  (in parallel)
                2. candidate
              stages:
                unit
                  unit-build: build variant unit from .pipeline/blubber.yaml, context .
                  unit-run: run the image of unit-build
                lint
                  lint-build: build variant lint from .pipeline/blubber.yaml, context .
                  lint-run: run the image of lint-build
                candidate (after unit, lint)
                  candidate-build: build variant production from .pipeline/blubber.yaml, context ., excludes [node_modules]
                  candidate-run: run the image of candidate-build with arguments [--version]
                  candidate-publish: publish the image of candidate-build as mediawiki-services-foo
              images built:
                unit-build: variant unit of .pipeline/blubber.yaml
                lint-build: variant lint of .pipeline/blubber.yaml
                candidate-build: variant production of .pipeline/blubber.yaml
              publishes:
                mediawiki-services-foo from candidate-build, tags <timestamp>-<stage>, <commit>, stable
              deploys: nothing

            """.ReplaceLineEndings("\n"), stdout);
    }

    [Fact]
    public void A_tags_run_publishes_under_the_tags_name()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            pipelines:
              release:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {image: true}
            """);
        var (code, stdout, stderr) = Plan(TriggerKind.RefUpdate, tag: "refs/tags/v1.4.0");
        Assert.Equal(("", PlanReport.Ok), (stderr, code));
        Assert.StartsWith(".pipeline/config.yaml: merge run of mediawiki/services/foo on tag v1.4.0\n", stdout);
        Assert.Contains("    mediawiki-services-foo from production-build, tags <timestamp>-<stage>, <commit>, v1.4.0\n", stdout);
    }

    [Fact]
    public void A_refused_pipeline_is_listed_with_file_and_line_and_the_others_still_print()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", """
            pipelines:
              ok:
                blubberfile: blubber.yaml
                stages: [{name: unit}]
              bad:
                blubberfile: blubber.yaml
                stages:
                  - name: s
                    bulid: test
            """);
        var (code, stdout, stderr) = Plan();
        Assert.Equal(PlanReport.Refused, code);
        Assert.Equal(".pipeline/config.yaml:9: pipelines.bad.stages[0]: unknown key `bulid` "
            + "(allowed: name, blubberfile, build, run, copy, publish, deploy, promote, notify, trigger, exports)\n", stderr);
        Assert.Contains("pipeline ok: 1 stage(s), 2 step(s)\n", stdout);
        Assert.Contains("pipeline bad: REFUSED (the other pipelines still run)\n", stdout);
    }

    [Fact]
    public void A_refused_variant_is_listed_and_only_its_build_refused()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber.Replace("  lint:\n    entrypoint: [npm, run, lint]", "  lint:\n    entrypoint: [npm, run, lint]\n    lives: {as: root}"));
        Write(".pipeline/config.yaml", "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: unit}, {name: lint}]\n");
        var (code, stdout, stderr) = Plan();
        Assert.Equal(PlanReport.Refused, code);
        Assert.StartsWith("pipeline `p`: step `lint-build`: .pipeline/blubber.yaml: ", stderr);
        Assert.Contains("    lint-build: variant lint of .pipeline/blubber.yaml — REFUSED\n", stdout);
        Assert.Contains("    unit-build: variant unit of .pipeline/blubber.yaml\n", stdout);
    }

    [Fact]
    public void Skipped_pipelines_say_why()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        Write(".pipeline/config.yaml", "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: production, publish: {image: true}}]\n");
        var (code, stdout, _) = Plan();
        Assert.Equal(PlanReport.Ok, code);
        Assert.EndsWith("pipeline p: not run on a patchset (uses publish, allowed only after merge)\n", stdout);
    }

    [Fact]
    public void Canonical_flow_prints_deploys_with_approval()
    {
        Write(".pipeline/blubber.yaml", Repo.Blubber);
        var (code, stdout, _) = Plan(TriggerKind.Merge);
        Assert.Equal(PlanReport.Ok, code);
        Assert.StartsWith(".pipeline/blubber.yaml: merge run of mediawiki/services/foo on master\n", stdout);
        Assert.Contains("    deploy-production: deploy foo to production after approval, rollout canary 10% → partial 50% → full 100%\n", stdout);
    }

    [Theory]
    [InlineData(null, "pipelines: [\n", ".pipeline/config.yaml:2: invalid YAML: ")]
    [InlineData("nope", "pipelines:\n  p:\n    stages: [{name: s}]\n", ".pipeline/config.yaml: Pipeline 'nope' is not defined in project's '.pipeline/config.yaml'\n")]
    public void An_unplannable_config_exits_2_with_the_reason(string? pipeline, string config, string expected)
    {
        Write(".pipeline/config.yaml", config);
        var (code, stdout, stderr) = Plan(options: pipeline is null ? null : new PlanningOptions { Pipelines = [pipeline] });
        Assert.Equal(PlanReport.Unplannable, code);
        Assert.Equal("", stdout);
        Assert.StartsWith(expected, stderr);
    }

    [Fact]
    public void No_pipeline_directory_exits_2()
    {
        var (code, _, stderr) = Plan();
        Assert.Equal(PlanReport.Unplannable, code);
        Assert.Equal("plan: no .pipeline/config.yaml or .pipeline/blubber.yaml: nothing would run\n", stderr);
    }

    [Fact]
    public void A_config_linking_out_of_the_repository_is_refused_not_read()
    {
        var outside = Path.Combine(Path.GetTempPath(), $"slipway-plan-outside-{Guid.NewGuid():N}");
        File.WriteAllText(outside, "pipelines: {}\n");
        try
        {
            Directory.CreateDirectory(Path.Combine(_dir, ".pipeline"));
            File.CreateSymbolicLink(Path.Combine(_dir, ".pipeline", "config.yaml"), outside);
            var (code, _, stderr) = Plan();
            Assert.Equal(PlanReport.Unplannable, code);
            Assert.StartsWith(".pipeline/config.yaml: ", stderr);
            Assert.Contains("outside", stderr);
        }
        finally
        {
            File.Delete(outside);
        }
    }
}
