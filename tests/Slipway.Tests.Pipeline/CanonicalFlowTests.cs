using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

public class CanonicalFlowTests
{
    private static Dictionary<string, string> Only(string blubber) => new() { [".pipeline/blubber.yaml"] = blubber };

    [Fact]
    public void No_pipeline_files_means_no_pipeline()
    {
        var r = Repo.Plan([]);
        Assert.False(r.HasPipeline);
        Assert.Null(r.Error);
        Assert.Empty(r.Plans);
    }

    [Theory]
    [InlineData(TriggerKind.Patchset)]
    [InlineData(TriggerKind.Recheck)]
    public void Patchset_plan_is_test_then_production_without_publish(TriggerKind trigger)
    {
        var plan = Single(Repo.Plan(Only(Blubber), trigger));
        Assert.Equal("default", plan.Pipeline);
        Assert.Equal(".pipeline/blubber.yaml", plan.ConfigPath);
        Assert.Equal(["test", "production"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["build-test", "run-test"], StepNames(plan.Stages[0]));
        Assert.Equal(["build-production", "smoke"], StepNames(plan.Stages[1]));
        Assert.Empty(Deps(plan, "test"));
        Assert.Equal(["test"], Deps(plan, "production"));

        var build = Step(plan, "build-test");
        Assert.Equal(StepKind.Build, build.Kind);
        Assert.Equal(new BuildParams { Variant = "test", Blubberfile = ".pipeline/blubber.yaml", Context = "." }, build.Build);
        Assert.Equal(StepKind.Test, Step(plan, "run-test").Kind);
        Assert.Equal("build-test", Step(plan, "run-test").Run!.ImageFrom);
        Assert.Equal("production", Step(plan, "build-production").Build!.Variant);
        var smoke = Step(plan, "smoke");
        Assert.Equal(StepKind.Smoke, smoke.Kind);
        Assert.Equal(new SmokeParams { ImageFrom = "build-production", Port = 8081, SpecPath = "/?spec", HealthPath = "/_info" }, smoke.Smoke);
    }

    [Theory]
    [InlineData(TriggerKind.Merge)]
    [InlineData(TriggerKind.RefUpdate)]
    public void Merge_plan_publishes_then_deploys_staging_then_production(TriggerKind trigger)
    {
        var plan = Single(Repo.Plan(Only(Blubber), trigger));
        Assert.Equal(["test", "production", "staging", "release"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["build-production", "smoke", "publish"], StepNames(plan.Stages[1]));
        Assert.Equal(["deploy-staging"], StepNames(plan.Stages[2]));
        Assert.Equal(["deploy-production"], StepNames(plan.Stages[3]));
        Assert.Equal(["production"], Deps(plan, "staging"));
        Assert.Equal(["staging"], Deps(plan, "release"));

        var publish = Step(plan, "publish");
        Assert.Equal(StepKind.Publish, publish.Kind);
        Assert.Equal("build-production", publish.Publish!.ImageFrom);

        var staging = Step(plan, "deploy-staging").Deploy!;
        Assert.Equal("staging", staging.Environment);
        Assert.Equal("foo", staging.Service);
        Assert.False(staging.RequiresApproval);
        Assert.Equal([new RolloutPhase { Stage = RolloutStage.Full, Percentage = 100 }], staging.Rollout);
        Assert.Equal("publish", staging.ImageFrom);

        var production = Step(plan, "deploy-production").Deploy!;
        Assert.Equal("production", production.Environment);
        Assert.Equal("foo", production.Service);
        Assert.True(production.RequiresApproval);
        Assert.Equal([RolloutStage.Canary, RolloutStage.Partial, RolloutStage.Full], production.Rollout!.Select(p => p.Stage));
        Assert.Equal([10, 50, 100], production.Rollout!.Select(p => p.Percentage));
        Assert.Equal("publish", production.ImageFrom);
    }

    [Fact]
    public void Rollout_is_configurable()
    {
        var options = new PlanningOptions { ProductionRollout = [new RolloutPhase { Stage = RolloutStage.Canary, Percentage = 5 }, new RolloutPhase { Stage = RolloutStage.Full, Percentage = 100 }] };
        var plan = Single(Repo.Plan(Only(Blubber), TriggerKind.Merge, options));
        Assert.Equal([5, 100], Step(plan, "deploy-production").Deploy!.Rollout!.Select(p => p.Percentage));
    }

    [Fact]
    public void Service_name_is_sanitized_short_project_name()
    {
        var r = RunPlanner.Plan(p => p == ".pipeline/blubber.yaml" ? Blubber : null,
            new PlanningContext(TriggerKind.Merge, "Operations/My_Service.JS", "main", Sha, Now));
        Assert.Equal("my-service-js", Step(Single(r), "deploy-staging").Deploy!.Service);
    }

    [Theory]
    [InlineData("PORT: \"not-a-port\"")]
    [InlineData("OTHER: \"1\"")]
    [InlineData("PORT: \"99999\"")]
    public void Smoke_port_defaults_when_not_an_integer_port(string env)
    {
        var blubber = $"""
            version: v4
            base: debian:bookworm
            variants:
              production:
                runs:
                  environment:
                    {env}
            """;
        var plan = Single(Repo.Plan(Only(blubber), options: new PlanningOptions { DefaultPort = 9000 }));
        Assert.Equal(9000, Step(plan, "smoke").Smoke!.Port);
    }

    [Fact]
    public void Without_test_variant_production_is_the_root()
    {
        var plan = Single(Repo.Plan(Only("version: v4\nbase: debian:bookworm\nvariants:\n  production: {}\n"), TriggerKind.Merge));
        Assert.Equal(["production", "staging", "release"], plan.Stages.Select(s => s.Name));
        Assert.Empty(Deps(plan, "production"));
        Assert.Equal(8080, Step(plan, "smoke").Smoke!.Port);
    }

    [Fact]
    public void Without_production_variant_only_test_runs_even_on_merge()
    {
        var plan = Single(Repo.Plan(Only("version: v4\nbase: debian:bookworm\nvariants:\n  test: {}\n"), TriggerKind.Merge));
        Assert.Equal(["test"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["build-test", "run-test"], StepNames(plan.Stages[0]));
    }

    [Fact]
    public void Neither_variant_is_an_error()
    {
        var error = Error(Repo.Plan(Only("version: v4\nbase: debian:bookworm\nvariants:\n  other: {}\n")));
        Assert.Equal("no test or production variant in .pipeline/blubber.yaml", error);
    }

    [Fact]
    public void Invalid_blubber_gives_blubbers_message()
    {
        var error = Error(Repo.Plan(Only("version: v3\nvariants:\n  test: {}\n")));
        Assert.Contains("config version \"v3\" is unsupported", error);
        Assert.StartsWith(".pipeline/blubber.yaml: ", error);
    }
}
