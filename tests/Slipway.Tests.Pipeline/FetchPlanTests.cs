namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>fetch</c>: <c>submodules</c> (on unless a pipeline turns it off) makes the plan ask the builder for the
/// revision's submodules when the revision declares any (<c>.gitmodules</c>), per pipeline, and for the canonical flow
/// too; <c>shallow</c> and <c>depth</c> set how many commits the build's checkout holds, <c>tags</c> whether it holds the project's tags.
/// </summary>
public class FetchPlanTests
{
    [Theory]
    [InlineData("", null, null)]
    [InlineData("fetch: {depth: 20}", null, null)]
    [InlineData("fetch: {depth: 5}", 5, null)]
    [InlineData("fetch: {depth: 0}", 1, null)]
    [InlineData("fetch: {shallow: false}", 0, null)]
    [InlineData("fetch: {shallow: false, depth: 5}", 0, null)]
    [InlineData("fetch: {shallow: true, tags: true}", null, true)]
    [InlineData("fetch: {tags: false, depth: 3}", 3, null)]
    public void Shallow_depth_and_tags_set_the_checkouts_depth_and_tags_as_jenkins_took_them(string fetch, int? depth, bool? tags)
    {
        var plan = Repo.Single(Repo.PlanConfig($"""
            pipelines:
              test:
                {fetch}
                stages:
                  - name: test
            """));
        Assert.Equal(depth, plan.FetchDepth);
        Assert.Equal(tags, plan.FetchTags);
    }

    private const string GitModules = "[submodule \"modules/translators\"]\n\tpath = modules/translators\n\turl = ../translators\n";

    private const string TwoPipelines = """
        pipelines:
          with:
            stages:
              - name: test
          without:
            fetch:
              submodules: false
            stages:
              - name: test
        """;

    [Fact]
    public void Each_pipeline_asks_for_submodules_unless_its_fetch_turns_them_off()
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/config.yaml"] = TwoPipelines, [".pipeline/blubber.yaml"] = Repo.Blubber, [".gitmodules"] = GitModules,
        };
        var result = Repo.Plan(files);
        Assert.Null(result.Error);
        Assert.Equal([("with", (bool?)true), ("without", null)], result.Plans.Select(p => (p.Pipeline, p.Submodules)));
    }

    [Fact]
    public void A_revision_without_gitmodules_asks_for_none()
    {
        var result = Repo.PlanConfig(TwoPipelines);
        Assert.All(result.Plans, p => Assert.Null(p.Submodules));
    }

    [Fact]
    public void The_canonical_flow_fetches_submodules_as_pipelinelib_does_by_default()
    {
        var with = Repo.Single(Repo.Plan(new Dictionary<string, string> { [".pipeline/blubber.yaml"] = Repo.Blubber, [".gitmodules"] = GitModules }));
        Assert.True(with.Submodules);
        var without = Repo.Single(Repo.Plan(new Dictionary<string, string> { [".pipeline/blubber.yaml"] = Repo.Blubber }));
        Assert.Null(without.Submodules);
    }
}
