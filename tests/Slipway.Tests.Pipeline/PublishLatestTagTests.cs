using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// `latest` in `publish.image.tags` or `publish.image.tag` (six real repositories of the corpus ask for it): PipelineLib
/// pushed it, Slipway never does. The tag is left out at planning with a note naming the key and line, and the publish
/// runs with the rest, instead of the publish step failing after the tests as it did.
/// </summary>
public class PublishLatestTagTests
{
    private static string Config(string image) => $$"""
        pipelines:
          publish:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image:
        {{image}}
        """;

    [Theory]
    [InlineData("            tags: [latest, stable]", "stable", 9)]
    [InlineData("            tags: ['LATEST ', stable]", "stable", 9)]
    [InlineData("            tags:\n              - latest", null, 10)]
    public void Latest_in_tags_is_left_out_with_a_note_and_the_rest_is_pushed(string image, string? rest, int line)
    {
        var plan = Single(PlanConfig(Config(image), TriggerKind.Merge));
        var publish = Step(plan, "production-publish").Publish!;
        Assert.Equal(rest is null ? null : [rest], publish.Tags);
        Assert.Equal("2026-03-04-050607-production", publish.Tag);
        var note = Assert.Single(plan.Notes!);
        Assert.StartsWith($"stage `production`: `publish.image.tags` (line {line}): the tag `latest` is not pushed", note);
    }

    [Fact]
    public void Latest_as_the_primary_tag_falls_back_to_the_timestamp_tag_with_a_note()
    {
        var plan = Single(PlanConfig(Config("            tag: latest\n            tags: [v2]"), TriggerKind.Merge));
        var publish = Step(plan, "production-publish").Publish!;
        Assert.Equal(["v2"], publish.Tags);
        Assert.Null(publish.Tag); // the publisher's <timestamp>-<stage> tag is then ${.imageTag}
        Assert.StartsWith("stage `production`: `publish.image.tag` (line 9): the tag `latest` is not pushed", Assert.Single(plan.Notes!));
    }

    [Fact]
    public void Other_tags_give_no_note()
    {
        var plan = Single(PlanConfig(Config("            tags: [latest-build, stable]"), TriggerKind.Merge));
        Assert.Equal(["latest-build", "stable"], Step(plan, "production-publish").Publish!.Tags);
        Assert.Null(plan.Notes);
    }
    /// <summary>The note only where the publish happens: a release branch's merge, not another branch's, nor a patch set.</summary>
    [Fact]
    public void The_note_shows_only_where_the_image_is_published()
    {
        var config = $$"""
            pipelines:
              test:
                blubberfile: blubber.yaml
                stages:
                  - name: unit
                    build: test
                    run: true
              publish:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish:
                      image:
                        tags: [latest, stable]
            """;
        var files = new Dictionary<string, string> { [".pipeline/config.yaml"] = config, [".pipeline/blubber.yaml"] = Blubber };
        PlanningResult On(TriggerKind trigger, string branch) =>
            RunPlanner.Plan(p => files.GetValueOrDefault(p), new PlanningContext(trigger, "mediawiki/services/foo", branch, Sha, Now));
        string Notes(PlanningResult r) => string.Join("\n", r.Plans.SelectMany(p => (p.Notes ?? []).Select(n => $"{p.Pipeline}: {n}")));

        var release = On(TriggerKind.Merge, "master");
        Assert.Equal("publish: stage `production`: `publish.image.tags` (line 15): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
            Notes(release));
        Assert.Equal(["stable"], Step(release.Plans.Single(p => p.Pipeline == "publish"), "production-publish").Publish!.Tags);

        var feature = On(TriggerKind.Merge, "feature/x");
        Assert.Equal("publish: branch `feature/x` is not a release branch (master, main): this run builds and tests only; it publishes, deploys and promotes nothing",
            Notes(feature));
        Assert.DoesNotContain(feature.Plans.SelectMany(p => p.Stages).SelectMany(s => s.Steps), s => s.Kind == StepKind.Publish);

        var patchset = On(TriggerKind.Patchset, "master");
        Assert.Equal("", Notes(patchset));
        Assert.Equal(["test"], patchset.Plans.Select(p => p.Pipeline));
        Assert.Equal(["publish"], patchset.Skipped.Select(s => s.Pipeline));
    }
}
