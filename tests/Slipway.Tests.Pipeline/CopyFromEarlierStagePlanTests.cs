using Slipway.Contracts;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>copy</c> with <c>from: ${&lt;stage&gt;.container}</c>: an entry naming the run container of a stage
/// that runs before this one is carried on that stage's run step, as this stage's (<c>run.copyFor</c>), apart from this
/// stage's own entries; a stage that does not run before it, has no <c>run</c> or does not exist is refused naming the
/// key and its line.
/// </summary>
public class CopyFromEarlierStagePlanTests
{
    // make → take → seen, and make → unseen; take's `copy:` is on line 11, its first item on line 12.
    private static Slipway.Pipeline.Planning.PlanningResult PlanTake(string takeYaml) => PlanConfig(
        "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
        + "      - name: make\n        build: test\n        run: true\n"
        + "      - name: take\n" + takeYaml
        + "      - name: seen\n        build: test\n        run: true\n"
        + "      - name: unseen\n        build: test\n"
        + "    execution:\n      - [make, take, seen]\n      - [make, unseen]\n");

    private static string Shown(IReadOnlyList<RunCopy>? copies) =>
        copies is null ? "none" : string.Join(", ", copies.Select(c => $"{c.Source}->{c.Destination}{(c.Archive ? " archived" : "")}"));

    [Fact]
    public void An_earlier_stages_container_is_copied_by_its_run_step_for_the_copying_stage()
    {
        var plan = Single(PlanTake("        build: test\n        run: true\n        copy:\n"
            + "          - {from: '${make.container}', source: /tmp/out/report.txt, destination: taken/report.txt, archive: true}\n"
            + "          - {from: '${.container}', source: /tmp/own/, destination: own/}\n"
            + "          - {from: '${make.container}', source: /tmp/out/dist}\n"));
        var make = Step(plan, "make-run").Run!;
        Assert.Null(make.Copy);
        var forTake = Assert.Single(make.CopyFor!);
        Assert.Equal("take", forTake.Stage);
        Assert.Equal("/tmp/out/report.txt->taken/report.txt archived, /tmp/out/dist->tmp/out/dist", Shown(forTake.Copy));
        var take = Step(plan, "take-run").Run!;
        Assert.Equal("/tmp/own->own/", Shown(take.Copy));
        Assert.Null(take.CopyFor);
        Assert.Equal(["take-build", "take-run"], plan.Stages.Single(s => s.Name == "take").Steps.Select(x => x.Name));
        Assert.Null(Step(plan, "seen-run").Run!.CopyFor);
    }

    [Fact]
    public void A_stage_without_run_copies_only_out_of_an_earlier_stages_container()
    {
        var plan = Single(PlanTake("        copy:\n          - {from: '${make.container}', source: /tmp/out/report.txt}\n"));
        Assert.Empty(plan.Stages.Single(s => s.Name == "take").Steps);
        var forTake = Assert.Single(Step(plan, "make-run").Run!.CopyFor!);
        Assert.Equal(("take", "/tmp/out/report.txt->tmp/out/report.txt"), (forTake.Stage, Shown(forTake.Copy)));
    }

    [Fact]
    public void Several_later_stages_copy_out_of_one_container_each_into_its_own_files()
    {
        var plan = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: make\n        build: test\n        run: true\n        copy: [/tmp/mine]\n"
            + "      - name: a\n        copy: [{from: '${make.container}', source: /tmp/a}]\n"
            + "      - name: b\n        copy: [{from: '${make.container}', source: /tmp/b}]\n"));
        var run = Step(plan, "make-run").Run!;
        Assert.Equal("/tmp/mine->tmp/mine", Shown(run.Copy));
        Assert.Equal(["a: /tmp/a->tmp/a", "b: /tmp/b->tmp/b"], run.CopyFor!.Select(g => $"{g.Stage}: {Shown(g.Copy)}"));
    }

    [Theory]
    // unseen runs beside take, not before it.
    [InlineData("      - name: after\n        copy: [{from: '${unseen.container}', source: /x}]\n", "after",
        "`copy[0].from` (`${unseen.container}`) names stage `unseen`, which is not a stage of this pipeline's `execution`", 23)]
    public void A_stage_outside_the_graph_is_refused(string extraStage, string stage, string message, int line)
    {
        var r = PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: unseen\n        build: test\n        run: true\n" + string.Concat(Enumerable.Repeat("\n", 14)) + extraStage
            + "    execution:\n      - [after]\n");
        var refusal = Assert.Single(r.Refused);
        Assert.Equal($"pipeline `p`: stage `{stage}`: {message}", refusal.Message);
        Assert.Equal(line, refusal.Line);
    }

    [Theory]
    [InlineData("        copy:\n          - {from: '${unseen.container}', source: /x}\n", "take",
        "`copy[0].from` (`${unseen.container}`): stage `unseen` must run before stage `take` (come before it in `execution`) for `take` to copy out of its run container", 10)]
    [InlineData("        copy:\n          - {from: '${seen.container}', source: /x}\n", "take",
        "`copy[0].from` (`${seen.container}`): stage `seen` must run before stage `take` (come before it in `execution`) for `take` to copy out of its run container", 10)]
    [InlineData("        build: test\n        run: true\n        copy:\n          - /ok\n          - {source: /x, from: '${nope.container}'}\n", "take",
        "`copy[1].from` (`${nope.container}`) names stage `nope`, which is not a stage of this pipeline's `execution`", 13)]
    [InlineData("        copy:\n          - {from: '${make.container}', source: /x}\n          - /y\n", "take",
        "`copy` copies files out of this stage's run container (`${.container}`), and stage `take` has no `run`", 11)]
    [InlineData("        copy:\n          - {from: '${.container}', source: /y}\n", "take",
        "`copy` copies files out of this stage's run container (`${.container}`), and stage `take` has no `run`", 10)]
    [InlineData("        copy:\n          - {from: '${make.imageID}', source: /y}\n", "take",
        "`copy[0].from` must be a run container: this stage's (`${.container}`) or that of a stage that runs before it (`${<stage>.container}`)", 10)]
    public void Containers_that_do_not_exist_before_this_stage_are_refused_with_key_and_line(string takeYaml, string stage, string message, int line)
    {
        var refusal = Assert.Single(PlanTake(takeYaml).Refused);
        Assert.Equal($"pipeline `p`: stage `{stage}`: {message}", refusal.Message);
        Assert.Equal(line, refusal.Line);
    }

    [Fact]
    public void A_stage_without_run_has_no_container_to_copy_from()
    {
        var refusal = Assert.Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: make\n        build: test\n"
            + "      - name: take\n        copy:\n          - {from: '${make.container}', source: /x}\n").Refused);
        Assert.Equal("pipeline `p`: stage `take`: `copy[0].from` (`${make.container}`): stage `make` has no `run`, so it has no run container to copy from", refusal.Message);
        Assert.Equal(9, refusal.Line);
    }
}
