using Slipway.Contracts;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>copy</c>: its shorthand and longhand forms with PipelineLib's defaults (<c>from</c> this stage's
/// container, <c>destination</c> the source made relative, <c>archive</c> false), carried on the stage's run step; and
/// every unsafe or unsupported form refused naming the key and its line.
/// </summary>
public class CopyPlanTests
{
    // Line 8 is `copy:`, its first item is on line 9.
    private static Slipway.Pipeline.Planning.PlanningResult PlanCopy(string copyYaml) => PlanConfig(
        "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: true\n        copy:\n" + copyYaml);

    private static IReadOnlyList<RunCopy> Copies(string copyYaml) =>
        Single(PlanCopy(copyYaml)).Stages.Single().Steps.Single(x => x.Kind == StepKind.Test).Run!.Copy!;

    [Fact]
    public void Shorthand_sources_get_PipelineLibs_defaults()
    {
        var copies = Copies("          - /srv/service/dist/\n          - srv/service/report.txt\n");
        Assert.Equal(
            [new RunCopy { Source = "/srv/service/dist", Destination = "srv/service/dist/" },
             new RunCopy { Source = "/srv/service/report.txt", Destination = "srv/service/report.txt" }],
            copies);
    }

    [Fact]
    public void Longhand_entries_keep_destination_archive_and_this_stages_container()
    {
        var copies = Copies("          - {from: '${.container}', source: /srv/service/out/app.tar, destination: 'artifacts/${.stage}.tar', archive: true}\n"
            + "          - {source: /srv/service/out/, destination: /}\n");
        Assert.Equal(
            [new RunCopy { Source = "/srv/service/out/app.tar", Destination = "artifacts/s.tar", Archive = true },
             new RunCopy { Source = "/srv/service/out", Destination = "./" }],
            copies);
    }

    [Fact]
    public void The_copy_does_not_add_a_step()
    {
        var plan = Single(PlanCopy("          - /srv/x\n"));
        Assert.Equal(["s-build", "s-run"], plan.Stages.Single().Steps.Select(x => x.Name));
    }

    [Theory]
    [InlineData("          - /srv/../etc/passwd\n", "`copy[0].source` `/srv/../etc/passwd` must not contain `..`", 9)]
    [InlineData("          - /\n", "`copy[0].source` must name a file or directory below the container's root, not the root itself", 9)]
    [InlineData("          - /srv/*.txt\n", "`copy[0].source` `/srv/*.txt` is a glob: the container's paths are copied as written (PipelineLib's `docker cp` did not expand globs either)", 9)]
    [InlineData("          - {source: /srv/x, destination: ../outside}\n", "`copy[0].destination` `../outside` must not contain `..`: a copy stays inside the workspace", 9)]
    [InlineData("          - {source: /srv/x, destination: 'a/../../b'}\n", "`copy[0].destination` `a/../../b` must not contain `..`: a copy stays inside the workspace", 9)]
    [InlineData("          - {source: /srv/x, from: '${s.imageID}'}\n", "`copy[0].from` must be a run container: this stage's (`${.container}`) or that of a stage that runs before it (`${<stage>.container}`)", 9)]
    [InlineData("          - {source: ''}\n", "`copy[0].source` is empty", 9)]
    [InlineData("          - \"a\\\\b\"\n", "`copy[0].source` `a\\b` must use `/` (a `\\` is refused)", 9)]
    public void Unsafe_copies_are_refused_with_key_and_line(string copyYaml, string message, int line)
    {
        var refusal = Assert.Single(PlanCopy(copyYaml).Refused);
        Assert.Equal($"pipeline `p`: stage `s`: {message}", refusal.Message);
        Assert.Equal(line, refusal.Line);
    }

    [Fact]
    public void More_entries_than_the_limit_are_refused()
    {
        var yaml = string.Concat(Enumerable.Range(0, RunCopy.MaxEntries + 1).Select(i => $"          - /srv/f{i}\n"));
        var refusal = Assert.Single(PlanCopy(yaml).Refused);
        Assert.Equal($"pipeline `p`: stage `s`: `copy` has more than {RunCopy.MaxEntries} entries", refusal.Message);
        Assert.Equal(9, refusal.Line);
    }

    [Fact]
    public void Artifact_urls_are_refused_when_the_operator_set_no_base_url()
    {
        var r = PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run: true\n        copy: [/srv/x]\n"
            + "      - name: t\n        build: test\n        run: {arguments: ['${s.artifactURLs}']}\n");
        var refusal = Assert.Single(r.Refused);
        Assert.Equal("pipeline `p`: stage `t`: `run.arguments[0]` uses `${s.artifactURLs}`, and the operator has not set Pipeline:ArtifactBaseUrl " +
            "(the reporter's public URL, which the artifact links start with), so Slipway has no link to give", refusal.Message);
        Assert.Equal(11, refusal.Line);
    }

    [Fact]
    public void Runtime_outputs_in_a_copy_out_of_this_stages_container_are_kept_for_the_tester_to_resolve()
    {
        var plan = Single(PlanCopy("          - {source: '/srv/${.imageID}/out', destination: 'by-image/${.imageID}/', archive: true}\n"
            + "          - '/tmp/${.output}'\n          - /srv/plain\n"));
        var run = plan.Stages.Single().Steps.Single(x => x.Kind == StepKind.Test);
        // The paths show the references (named by stage); the written entry is normalized as before.
        Assert.Equal(
            [new RunCopy { Source = "/srv/${s.imageID}/out", Destination = "by-image/${s.imageID}/", Archive = true },
             new RunCopy { Source = "/tmp/${s.output}", Destination = "/tmp/${s.output}" },
             new RunCopy { Source = "/srv/plain", Destination = "srv/plain" }],
            run.Run!.Copy);
        string Shown(RuntimeTemplate t) => string.Concat(t.Parts.Select(p => p.Output is { } o ? $"<{o.Step}:{o.Name}>" : p.Text));
        Assert.Equal(
            ["copy[0].destination=by-image/<s-build:imageID>/", "copy[0].source=/srv/<s-build:imageID>/out",
             "copy[1].destination=/tmp/<s-run:output>", "copy[1].source=/tmp/<s-run:output>"],
            run.Runtime!.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Shown(kv.Value)}"));
    }

    [Fact]
    public void Runtime_outputs_in_a_copy_out_of_an_earlier_stages_container_are_refused_naming_why()
    {
        var refusal = Assert.Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n"
            + "      - name: make\n        build: test\n        run: true\n"
            + "      - name: take\n        copy:\n          - {from: '${make.container}', source: '/x/${make.imageID}'}\n").Refused);
        Assert.Equal("pipeline `p`: stage `take`: `copy[0].source` uses `${make.imageID}`, and the entry copies out of stage `make`'s run container: " +
            "Slipway takes that copy when `make`'s run step ends, so its paths must be known when the run is planned " +
            "(runtime outputs are resolved only in copies out of this stage's own container)", refusal.Message);
        Assert.Equal(10, refusal.Line);
    }
}
