namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>fetch.submodules</c> (on unless a pipeline turns it off): the plan asks the builder for the revision's
/// submodules when the revision declares any (<c>.gitmodules</c>), per pipeline, and for the canonical flow too.
/// </summary>
public class FetchSubmodulesPlanTests
{
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
