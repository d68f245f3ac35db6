using Slipway.Contracts;
using Slipway.Pipeline.Planning;

namespace Slipway.Tests.Pipeline;

/// <summary>An in-memory repo and shortcuts for planning against it.</summary>
internal static class Repo
{
    public static readonly DateTimeOffset Now = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
    public const string Sha = "0123456789abcdef0123456789abcdef01234567";

    public const string Blubber = """
        version: v4
        base: docker-registry.wikimedia.org/nodejs20-slim
        lives:
          in: /srv/service
        runs:
          environment:
            PORT: "8081"
        variants:
          build:
            base: docker-registry.wikimedia.org/nodejs20-devel
          test:
            includes: [build]
            entrypoint: [npm, test]
          production:
            entrypoint: [node, server.js]
          candidate:
            entrypoint: [node, server.js]
          lint:
            entrypoint: [npm, run, lint]
          unit:
            entrypoint: [npm, run, unit]
        """;

    public static PlanningContext Context(TriggerKind trigger = TriggerKind.Patchset, string? tag = null) =>
        new(trigger, "mediawiki/services/foo", "master", Sha, Now, tag);

    public static PlanningResult Plan(Dictionary<string, string> files, TriggerKind trigger = TriggerKind.Patchset, PlanningOptions? options = null, string? tag = null) =>
        RunPlanner.Plan(p => files.GetValueOrDefault(p), Context(trigger, tag), options);

    /// <summary>A repo with the given config.yaml and the shared blubber file at .pipeline/blubber.yaml and .pipeline/&lt;name&gt;/blubber.yaml.</summary>
    public static PlanningResult PlanConfig(string config, TriggerKind trigger = TriggerKind.Patchset, PlanningOptions? options = null, string? tag = null, params string[] pipelineDirs)
    {
        var files = new Dictionary<string, string> { [".pipeline/config.yaml"] = config, [".pipeline/blubber.yaml"] = Blubber };
        foreach (var d in pipelineDirs) files[$".pipeline/{d}/blubber.yaml"] = Blubber;
        return Plan(files, trigger, options, tag);
    }

    public static RunPlan Single(PlanningResult r)
    {
        Assert.Null(r.Error);
        Assert.Empty(r.Refused);
        return Assert.Single(r.Plans);
    }

    /// <summary>The refusal of the whole config, or of its only chosen pipeline.</summary>
    public static string Error(PlanningResult r)
    {
        Assert.Empty(r.Plans);
        Assert.True(r.HasPipeline);
        return r.Error ?? Assert.Single(r.Refused).Message;
    }

    public static PlanStep Step(RunPlan plan, string name) => plan.Stages.SelectMany(s => s.Steps).Single(s => s.Name == name);

    public static string[] StepNames(PlanStage stage) => stage.Steps.Select(s => s.Name).ToArray();

    public static string[] Deps(RunPlan plan, string stage) => plan.Graph.Single(g => g.Stage == stage).DependsOn.ToArray();
}
