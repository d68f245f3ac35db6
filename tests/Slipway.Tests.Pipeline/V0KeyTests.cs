using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// The v0 keys of docs/pipeline.md's table: each either plans or is refused at planning with a message naming the key,
/// at the key's line. The stage under test is the second of a pipeline whose first stage, `a`, builds and runs `test`.
/// </summary>
public class V0KeyTests
{
    private static PlanningResult PlanStage(string stageYaml, TriggerKind trigger = TriggerKind.Merge) => PlanConfig(
        "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: a\n        build: test\n        run: {tail: 5}\n      - name: s\n" + stageYaml,
        trigger);

    // Line 8 is `- name: s`; the stage's own keys start at line 9.
    [Theory]
    [InlineData("        copy: [dist/]\n", "`copy` copies files out of this stage's run container (`${.container}`), and stage `s` has no `run`", 9)]
    [InlineData("        trigger: {name: other-job, wait: true}\n", "`trigger.wait: true` is refused: Slipway asks for the downstream job (an event and a webhook) but has no downstream build to wait for", 9)]
    [InlineData("        build: test\n        run:\n          credentials: [{id: secret, name: TOKEN}]\n", "Invalid Credential: 'secret'. Allowed credentials for mediawiki/services/foo: [] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)", 11)]
    [InlineData("        build: test\n        run:\n          env: {C: '${a.container}'}\n",
        "`run.env.C` uses `${a.container}`: Slipway keeps no container after a run step (the tester removes it once the step and its `copy` are done), so there is no container name to use", 11)]
    // As run.arguments (then expanded when the stage runs, as PipelineLib does); elsewhere still refused.
    [InlineData("        build: test\n        run:\n          env: {X: {$each: n, $in: '${a.output}'}}\n",
        "`run.env` uses `${a.output}`, which is known only while the run executes; `$each`/`$in` over it is expanded when the run is planned, so Slipway cannot use it there", 11)]
    [InlineData("        build: {variant: '${a.imageLocalName}'}\n",
        "`build` uses `${a.imageLocalName}`, which is known only while the run executes; Slipway plans the whole run before it starts and cannot use it there", 9)]
    [InlineData("        run: {image: '${a.imageLocalName}'}\n",
        "`run.image` must be the image a build in this run produced (`${.imageID}` or `${<stage>.imageID}`); Slipway runs only images it built", 9)]
    [InlineData("        build: test\n        run:\n          arguments: ['${nope.x}']\n",
        "cannot access 'nope.*' values since 's' does not follow it in the graph 'digraph { a -> s }'", 11)]
    public void Refused_keys_are_named_with_their_line(string stageYaml, string message, int line)
    {
        var refusal = Assert.Single(PlanStage(stageYaml).Refused);
        Assert.Equal($"pipeline `p`: stage `s`: {message}", refusal.Message);
        Assert.Equal(line, refusal.Line);
    }

    [Fact]
    public void Inline_blubberfile_is_planned_with_its_text_and_checked_by_blubber()
    {
        var plan = Single(PlanStage("        blubberfile:\n          version: v4\n          base: docker-registry.wikimedia.org/python3\n          variants:\n            app: {entrypoint: [python3, '${.stage}']}\n            bad: {runs: {environment: {1BAD: x}}}\n        build: app\n      - name: t\n        blubberfile: {version: v4, variants: {t: {runs: {environment: {1BAD: x}}}}}\n        build: t\n"));
        var build = Step(plan, "s-build").Build!;
        Assert.Equal(".pipeline/p.s.inline-blubber.yaml", build.Blubberfile);
        Assert.Null(build.Refusal);
        Assert.Equal("""
            "version": "v4"
            "base": "docker-registry.wikimedia.org/python3"
            "variants":
              "app":
                "entrypoint":
                  - "python3"
                  - "s"
              "bad":
                "runs":
                  "environment":
                    "1BAD": "x"

            """.ReplaceLineEndings("\n"), build.BlubberConfig);
        Assert.StartsWith(".pipeline/p.t.inline-blubber.yaml: variants: contains a bad variant name", Step(plan, "t-build").Build!.Refusal); // Blubber: 3+ characters
    }

    [Theory]
    [InlineData("        build: '${.stage}-x'\n", "s-build", "Variant", "s-x")]
    [InlineData("        run: {image: '${a.imageID}', arguments: ['${.stage}', '${setup.projectShortName}']}\n", "s-run", "Arguments", "s foo")]
    [InlineData("        run: {image: '${a.imageID}', env: {STAGE: '${.stage}'}, tail: 3}\n", "s-run", "Tail", "3")]
    [InlineData("        run: {image: '${a.imageID}', arguments: {$each: [x, y], $in: 'a b,c d', $delimiter: ',', $yield: '${.y}${.x}'}}\n", "s-run", "Arguments", "ba dc")]
    [InlineData("        run: {image: '${a.imageID}', arguments: {$merge: [one], $with: [two]}}\n", "s-run", "Arguments", "one two")]
    [InlineData("        exports: {img: '${a.imageID}'}\n      - name: t\n        run: {image: '${s.img}'}\n", "t-run", "ImageFrom", "a-build")]
    [InlineData("        build: test\n        publish: {image: {tags: ['${.stage}-tag']}}\n", "s-publish", "Tags", "s-tag")]
    public void Supported_keys_plan(string stageYaml, string step, string property, string expected)
    {
        var plan = Single(PlanStage(stageYaml));
        var s = Step(plan, step);
        object? value = property switch
        {
            "Variant" => s.Build!.Variant,
            "Arguments" => string.Join(' ', s.Run!.Arguments ?? []),
            "Tail" => s.Run!.Tail?.ToString(),
            "ImageFrom" => s.Run!.ImageFrom,
            "Tags" => string.Join(' ', s.Publish!.Tags ?? []),
            _ => null,
        };
        Assert.Equal(expected, value);
    }
}
