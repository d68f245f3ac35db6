using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

public class ValidationTests
{
    private static string Err(string config, TriggerKind trigger = TriggerKind.Patchset) => Error(PlanConfig(config, trigger));

    [Fact]
    public void Reserved_names_and_execution_shape_are_reported_together()
    {
        var error = Err("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: setup
                  - name: teardown
                execution: [setup, teardown]
            """);
        Assert.Equal("""
            Pipeline configuration validation failed:
             - setup is a reserved stage name
             - teardown is a reserved stage name
             - `execution` graph must be a list of lists (graph branches)
            """.ReplaceLineEndings("\n"), error);
    }

    [Fact]
    public void Cycle_is_detected()
    {
        var error = Err("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages: [{name: unit}, {name: lint}]
                execution:
                  - [unit, lint]
                  - [lint, unit]
            """);
        Assert.Equal("pipeline `p`: cycle detected in graph (digraph { unit -> lint; lint -> unit })", error);
    }

    /// <summary>
    /// PipelineLib's schema has no <c>additionalProperties: false</c> at the top, in a pipeline or in <c>deploy.chart</c>:
    /// ajv passes other keys there (a top-level block of YAML anchors is common) and PipelineLib's code never reads
    /// them. They are ignored here too and named: the top-level one by <c>slipway plan</c>, a pipeline's in its run's notes.
    /// </summary>
    [Fact]
    public void Keys_the_schema_leaves_open_are_ignored_and_named()
    {
        var r = PlanConfig("""
            x-defaults: &unit
              build: test
              run: true
            pipelines:
              p:
                description: the service's tests
                blubberfile: blubber.yaml
                stages:
                  - name: unit
                    <<: *unit
                  - name: rollout
                    build: production
                    publish: {image: true}
                    deploy: {chart: {name: foo, repo: charts}}
            """, TriggerKind.Merge);
        Assert.Empty(r.Refused);
        var plan = Single(r);
        Assert.Equal(["unit-build", "unit-run"], StepNames(plan.Stages[0]));
        Assert.Equal([
            new PlanRefusal(null, "config: key `x-defaults` is ignored: PipelineLib's schema allows other keys here and its code reads only pipelines", ".pipeline/config.yaml", 1),
            new PlanRefusal("p", "pipelines.p: key `description` is ignored: PipelineLib's schema allows other keys here and its code reads only blubberfile, directory, fetch, notify, execution, stages", ".pipeline/config.yaml", 6),
            new PlanRefusal("p", "pipelines.p.stages[1].deploy.chart: key `repo` is ignored: PipelineLib's schema allows other keys here and its code reads only name, version", ".pipeline/config.yaml", 14),
        ], r.Ignored);
        Assert.Equal([
            ".pipeline/config.yaml: line 6: pipelines.p: key `description` is ignored: PipelineLib's schema allows other keys here and its code reads only blubberfile, directory, fetch, notify, execution, stages",
            ".pipeline/config.yaml: line 14: pipelines.p.stages[1].deploy.chart: key `repo` is ignored: PipelineLib's schema allows other keys here and its code reads only name, version",
        ], plan.Notes!);
    }

    [Theory]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: s\n        bulid: test\n", ".pipeline/config.yaml: line 5: pipelines.p.stages[0]: unknown key `bulid` (allowed: name, blubberfile, build, run, copy, publish, deploy, promote, notify, trigger, exports)")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: s\n        run: {image: x, argv: []}\n", ".pipeline/config.yaml: line 5: pipelines.p.stages[0].run: unknown key `argv` (allowed: image, arguments, env, credentials, tail)")]
    // A key the schema does not name is ignored at the top and in a pipeline (as ajv passes it): what is missing is said.
    [InlineData("pipelines:\n  p:\n    stage: []\n", ".pipeline/config.yaml: line 3: pipelines.p: `stages` is required")]
    [InlineData("pipeline: {}\n", ".pipeline/config.yaml: line 1: config: `pipelines` is required")]
    [InlineData("pipelines:\n  p:\n    fetch: {depth: deep}\n    stages: [{name: s}]\n", ".pipeline/config.yaml: line 3: pipelines.p.fetch.depth: must be an integer from 0 to 1000000")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - build: test\n", ".pipeline/config.yaml: line 4: pipelines.p.stages[0]: `name` is required")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: s\n        deploy: {image: x}\n", ".pipeline/config.yaml: line 5: pipelines.p.stages[0].deploy: `chart` is required")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: s\n      - name: s\n", ".pipeline/config.yaml: line 5: pipelines.p.stages[1]: stage `s` is defined more than once")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: 'bad name'\n", ".pipeline/config.yaml: line 4: pipelines.p.stages[0].name: stage names must start with a letter or digit, use only letters, digits, '.', '_' and '-', and be at most 100 characters")]
    [InlineData("pipelines:\n  p:\n    stages:\n      - name: s\n        run: {arguments: {$each: x}}\n", ".pipeline/config.yaml: line 5: pipelines.p.stages[0].run.arguments: a list comprehension needs `$each` and `$in`")]
    [InlineData("pipelines: [a]\n", ".pipeline/config.yaml: line 1: pipelines: must be a mapping, not a list")]
    public void Schema_errors_name_the_key_and_line(string config, string expected) => Assert.Equal(expected, Err(config));

    [Fact]
    public void An_empty_stage_list_is_a_pipeline_with_no_steps_as_PipelineLib_runs_it()
    {
        // Wikimedia's "Add no-op CI pipelines" (metrics-platform): the schema has no minItems; PipelineLib runs an empty
        // frame and the job passes. Beside a real pipeline it plans no step and does not stop the other.
        var r = PlanConfig("pipelines:\n  test:\n    stages: []\n  other:\n    blubberfile: blubber.yaml\n    stages: [{name: unit, build: test, run: true}]\n");
        Assert.Empty(r.Refused);
        Assert.Equal(["test", "other"], r.Plans.Select(p => p.Pipeline));
        Assert.Empty(r.Plans[0].Stages.SelectMany(s => s.Steps));
        Assert.Equal(["unit-build", "unit-run"], r.Plans[1].Stages.SelectMany(s => s.Steps).Select(s => s.Name));
    }

    [Fact]
    public void Empty_written_defaults_take_PipelineLibs_default_as_Groovys_elvis_does()
    {
        // PipelineLib's defaultConfig: `variant ?: '${.stage}'`, `context ?: '.'`, `run.image ?: '${.imageID}'` on the written
        // values, so '' means the default; a value that interpolates to '' is kept (and refused as empty).
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: test\n        build: {variant: '', context: ''}\n        run: {image: ''}\n"));
        var build = Step(plan, "test-build").Build!;
        Assert.Equal(("test", "."), (build.Variant, build.Context));
        Assert.Equal("test-build", Step(plan, "test-run").Run!.ImageFrom);
        // copy: `from ?: '${.container}'`, `destination ?: source`.
        var copy = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: test\n        build: test\n        run: true\n        copy: [{source: out/report.xml, destination: '', from: ''}]\n"));
        Assert.Equal(("/out/report.xml", "out/report.xml"), (Step(copy, "test-run").Run!.Copy![0].Source, Step(copy, "test-run").Run!.Copy![0].Destination));
        Assert.Equal("pipeline `p`: stage `test`: `build.variant` is empty",
            Error(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: test\n        build: {variant: '${setup.tag}'}\n")));
    }

    [Fact]
    public void Inline_blubberfile_without_the_variant_refuses_that_build()
    {
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile:\n      version: v4\n    stages: [{name: s}]\n"));
        Assert.StartsWith(".pipeline/p.s.inline-blubber.yaml: ", Step(plan, "s-build").Build!.Refusal);
    }

    [Fact]
    public void Invalid_yaml_names_the_line()
    {
        var error = Err("pipelines:\n  p: [\n");
        Assert.StartsWith(".pipeline/config.yaml: line ", error);
        Assert.Contains("invalid YAML", error);
    }

    [Fact]
    public void Rebinding_an_export_is_pipelinelibs_error()
    {
        var error = Err("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        exports: {imageID: x}\n");
        Assert.Equal("pipeline `p`: stage `s`: 's' already has a value assigned to 'imageID'", error);
    }

    [Fact]
    public void Unplannable_runtime_reference_names_the_field()
    {
        var error = Err("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: sequence
                    build: test
                    run: {tail: 3}
                  - name: squares
                    build: test
                    run:
                      env: {X: {$each: n, $in: '${sequence.output}', $yield: '${.n}'}}
            """);
        // (As the whole of run.arguments it is expanded when the step runs, as PipelineLib does; elsewhere it is refused.)
        Assert.Equal("pipeline `p`: stage `squares`: `run.env` uses `${sequence.output}`, which is known only while the run executes; `$each`/`$in` over it is expanded when the run is planned, so Slipway cannot use it there", error);
    }

    [Fact]
    public void Reading_a_stage_that_is_not_an_ancestor_is_refused()
    {
        var error = Err("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: a
                    build: test
                    exports: {v: x}
                  - name: b
                    build: '${a.v}'
                execution: [[a], [b]]
            """);
        Assert.Equal("pipeline `p`: stage `b`: cannot access 'a.*' values since 'b' does not follow it in the graph 'digraph { a; b }'", error);
    }
}
