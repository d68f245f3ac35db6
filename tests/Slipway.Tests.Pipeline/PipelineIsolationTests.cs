using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// Issue 11's first fixes: each pipeline of a config.yaml is planned on its own (one refusal does not stop the others),
/// a refused Blubber variant refuses only the builds of that variant, <c>build.excludes</c>, and the <c>setup.*</c> values.
/// </summary>
public class PipelineIsolationTests
{
    private const string Good = """
          good:
            blubberfile: blubber.yaml
            stages:
              - name: unit
        """;

    // The refused pipeline sits between two good ones: the message, the line it points at.
    [Theory]
    [InlineData("    stages:\n      - name: s\n        bulid: test\n",
        ".pipeline/config.yaml: line 9: pipelines.bad.stages[0]: unknown key `bulid` (allowed: name, blubberfile, build, run, copy, publish, deploy, promote, notify, trigger, exports)", 9)]
    [InlineData("    stage: []\n", ".pipeline/config.yaml: line 7: pipelines.bad: `stages` is required", 7)]
    [InlineData("    stages: [{name: setup}]\n", "Pipeline configuration validation failed:\n - setup is a reserved stage name", 7)]
    [InlineData("    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        copy: [dist/]\n", "pipeline `bad`: stage `s`: `copy` copies files out of this stage's run container (`${.container}`), and stage `s` has no `run`", 10)]
    [InlineData("    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: {arguments: ['${x.output}']}\n",
        "pipeline `bad`: stage `s`: cannot access 'x.*' values since 's' does not follow it in the graph 'digraph { s }'", 11)]
    public void One_pipelines_refusal_refuses_only_that_pipeline(string badPipeline, string message, int line)
    {
        var config = "pipelines:\n" + Good + "\n  bad:\n" + badPipeline + Good.Replace("good:", "also:");
        var r = PlanConfig(config);
        Assert.Null(r.Error);
        Assert.Equal(["good", "also"], r.Plans.Select(p => p.Pipeline));
        Assert.Equal(new PlanRefusal("bad", message, ".pipeline/config.yaml", line), Assert.Single(r.Refused));
        Assert.Equal(["good", "bad", "also"], r.Order);
    }

    [Fact]
    public void A_config_that_does_not_parse_is_refused_whole_with_file_and_line()
    {
        var r = PlanConfig("pipelines:\n  p: [\n");
        Assert.Empty(r.Plans);
        Assert.NotNull(r.Error);
        Assert.Equal(new PlanRefusal(null, r.Error!, ".pipeline/config.yaml", 3), r.ErrorAt);
    }

    private const string BlubberWithBadProduction = """
        version: v4
        base: docker-registry.wikimedia.org/nodejs20-slim
        lives:
          in: /srv/service
        variants:
          test:
            entrypoint: [npm, test]
          production:
            runs:
              environment:
                1BAD: x
            entrypoint: [node, server.js]
          lint:
            entrypoint: [npm, run, lint]
        """;

    [Fact]
    public void A_refused_variant_refuses_only_the_builds_of_that_variant()
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/blubber.yaml"] = BlubberWithBadProduction,
            [".pipeline/config.yaml"] = """
                pipelines:
                  p:
                    blubberfile: blubber.yaml
                    stages:
                      - name: test
                      - name: production
                      - name: lint
                    execution:
                      - [test, production]
                      - [lint]
                """,
        };
        var plan = Single(Repo.Plan(files));
        Assert.Null(Step(plan, "test-build").Build!.Refusal);
        Assert.Null(Step(plan, "lint-build").Build!.Refusal);
        var refusal = Step(plan, "production-build").Build!.Refusal;
        Assert.Equal(".pipeline/blubber.yaml: environment: contains invalid environment variable names (at variants.production.runs.environment, line 11)", refusal);
        Assert.Equal(["production-build", "production-run"], StepNames(plan.Stages[1])); // still planned: it fails with the reason when due
        Assert.Equal([$"stage `production`: {refusal}; its build fails and the steps that need its image do not run"], plan.Notes);
    }

    [Fact]
    public void Canonical_flow_with_a_refused_production_variant_still_tests()
    {
        var plan = Single(Repo.Plan(new Dictionary<string, string> { [".pipeline/blubber.yaml"] = BlubberWithBadProduction }));
        Assert.Null(Step(plan, "build-test").Build!.Refusal);
        Assert.StartsWith(".pipeline/blubber.yaml: environment: contains invalid environment variable names", Step(plan, "build-production").Build!.Refusal);
        Assert.Equal(8080, Step(plan, "smoke").Smoke!.Port);
        Assert.Single(plan.Notes!);
    }

    [Fact]
    public void A_variant_including_a_refused_one_is_refused_too()
    {
        var blubber = BlubberWithBadProduction + "\n  debug:\n    includes: [production]\n";
        var files = new Dictionary<string, string>
        {
            [".pipeline/blubber.yaml"] = blubber,
            [".pipeline/config.yaml"] = "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: debug}, {name: lint}]\n    execution: [[debug], [lint]]\n",
        };
        var plan = Single(Repo.Plan(files));
        Assert.NotNull(Step(plan, "debug-build").Build!.Refusal);
        Assert.Null(Step(plan, "lint-build").Build!.Refusal);
    }

    // Blubber refuses the whole file; Slipway refuses only the variants that need the refused one. Without this, the file
    // parsed without `production` would read `from: production` as an image named "production".
    [Theory]
    [InlineData("  prod-copy:\n    copies: [production]\n", "prod-copy")]
    [InlineData("  prod-copy:\n    copies:\n      - from: production\n        source: /srv/app\n        destination: .\n", "prod-copy")]
    [InlineData("  prod-copy:\n    builder:\n      command: [make]\n      requirements: [{from: production, source: /srv/app/x, destination: x}]\n", "prod-copy")]
    [InlineData("  prod-copy:\n    copies: [production]\n  twice-removed:\n    includes: [prod-copy]\n", "twice-removed")]
    public void A_variant_copying_from_a_refused_one_is_refused_naming_it_and_the_others_build(string variants, string stage)
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/blubber.yaml"] = BlubberWithBadProduction + "\n" + variants,
            [".pipeline/config.yaml"] = $"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{{name: {stage}}}, {{name: lint}}]\n    execution: [[{stage}], [lint]]\n",
        };
        var plan = Single(Repo.Plan(files));
        Assert.Null(Step(plan, "lint-build").Build!.Refusal);
        Assert.Equal($".pipeline/blubber.yaml: variant \"{stage}\" needs variant \"production\" (includes or copies from it), which Blubber refuses: " +
            "environment: contains invalid environment variable names (at variants.production.runs.environment, line 11)", Step(plan, $"{stage}-build").Build!.Refusal);
    }

    [Fact]
    public void An_error_outside_the_variants_refuses_every_build_of_the_file()
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/blubber.yaml"] = "version: v3\nvariants:\n  test: {}\n",
            [".pipeline/config.yaml"] = "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: test}]\n",
        };
        var plan = Single(Repo.Plan(files));
        Assert.StartsWith(".pipeline/blubber.yaml: version: config version \"v3\" is unsupported", Step(plan, "test-build").Build!.Refusal);
    }

    [Theory]
    [InlineData("[node_modules, '*.log']", new[] { "node_modules", "*.log" })]
    [InlineData("[]", new string[0])]
    [InlineData("{$merge: [a], $with: ['${setup.projectShortName}']}", new[] { "a", "foo" })]
    [InlineData("{$each: d, $in: 'x y', $delimiter: ' ', $yield: 'dist/${.d}'}", new[] { "dist/x", "dist/y" })]
    public void Build_excludes_replace_the_contexts_dockerignore(string excludes, string[] expected)
    {
        var plan = Single(PlanConfig($"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: {{variant: test, excludes: {excludes}}}\n"));
        Assert.Equal(expected, Step(plan, "s-build").Build!.Excludes);
    }

    [Theory]
    [InlineData("[\"a\\nb\"]", "pipeline `p`: stage `s`: `build.excludes` patterns must not contain line breaks or control characters")]
    [InlineData("[{a: b}]", ".pipeline/config.yaml: line 6: pipelines.p.stages[0].build.excludes[0]: must be a scalar, not a map")]
    public void Build_excludes_that_would_inject_patterns_are_refused(string excludes, string expected)
    {
        var r = PlanConfig($"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: {{variant: test, excludes: {excludes}}}\n");
        Assert.Equal(expected, Error(r));
    }

    [Theory]
    [InlineData("${setup.remote}", "https://gerrit.example.org/r/mediawiki/services/foo")]
    [InlineData("${setup.GIT_URL}", "https://gerrit.example.org/r/mediawiki/services/foo")]
    [InlineData("${setup.branch}", "master")]
    [InlineData("${setup.GIT_LOCAL_BRANCH}", "master")]
    [InlineData("${setup.GIT_BRANCH}", "origin/master")]
    [InlineData("${setup.GIT_COMMIT}", Sha)]
    [InlineData("${setup.commit}", Sha)]
    [InlineData("${setup.logURL}", "https://ci.example.org/runs/abc")]
    [InlineData("${setup.pipeline}", "p")]
    [InlineData("${setup.project}", "mediawiki/services/foo")]
    [InlineData("${setup.projectShortName}", "foo")]
    [InlineData("${setup.timestamp}", "2026-03-04-050607")]
    [InlineData("${setup.tag|none}", "none")]
    public void Setup_values_are_bound_as_pipelinelib_binds_them(string expression, string expected)
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/blubber.yaml"] = Blubber,
            [".pipeline/config.yaml"] = $"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: {{arguments: ['{expression}']}}\n",
        };
        var context = Context() with { Remote = "https://gerrit.example.org/r/mediawiki/services/foo", RunId = "abc", Branch = "refs/heads/master" };
        var plan = Single(RunPlanner.Plan(p => files.GetValueOrDefault(p), context, PlanningOptions.Default with { ArtifactBaseUrl = "https://ci.example.org" }));
        Assert.Equal([expected], Step(plan, "s-run").Run!.Arguments);
    }
}
