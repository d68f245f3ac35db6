using System.Globalization;
using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// The canonical flow of design.md for a repo with only <c>.pipeline/blubber.yaml</c>: test, production (build and
/// smoke test, publish on merges), then staging and an approved, staged production release. The stage and step
/// names are fixed: the services key on them.
/// </summary>
internal static class CanonicalPlanner
{
    public const string BlubberPath = ".pipeline/blubber.yaml";

    public static RunPlan Plan(BlubberFiles files, PlanningContext context, PlanningOptions options)
    {
        var config = files.Get(BlubberPath);
        var hasTest = config.Variant("test") is not null;
        var hasProduction = config.Variant("production") is not null;
        if (!hasTest && !hasProduction) throw new PipelineConfigException($"no test or production variant in {BlubberPath}");

        var stages = new List<PlanStage>();
        var graph = new List<PlanGraphNode>();
        void AddStage(string name, string? after, params PlanStep[] steps)
        {
            stages.Add(new PlanStage { Name = name, Steps = steps });
            graph.Add(new PlanGraphNode { Stage = name, DependsOn = after is null ? [] : [after] });
        }

        if (hasTest)
        {
            files.Variant(BlubberPath, "test");
            AddStage("test", null,
                Build("build-test", "test"),
                new PlanStep { Name = "run-test", Kind = StepKind.Test, Run = new RunParams { ImageFrom = "build-test" } });
        }
        if (!hasProduction) return Result(stages, graph);

        var production = files.Variant(BlubberPath, "production");
        var port = production.Common.Runs.Environment.LastOrDefault(e => e.Key == "PORT").Value is { } p
            && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535 ? n : options.DefaultPort;
        var productionSteps = new List<PlanStep>
        {
            Build("build-production", "production"),
            new()
            {
                Name = "smoke", Kind = StepKind.Smoke,
                Smoke = new SmokeParams { ImageFrom = "build-production", Port = port, SpecPath = "/?spec", HealthPath = "/_info" },
            },
        };
        var postMerge = ReleaseBranches.IsPostMerge(context);
        var release = ReleaseBranches.Releases(context, options);
        if (release)
            productionSteps.Add(new PlanStep { Name = "publish", Kind = StepKind.Publish, Publish = new PublishParams { ImageFrom = "build-production" } });
        AddStage("production", hasTest ? "test" : null, [.. productionSteps]);
        if (!release) return Result(stages, graph, postMerge ? ReleaseBranches.Note(context, options) : null);

        var service = Names.Service(Names.ProjectShortName(context.Project));
        AddStage("staging", "production", Deploy("deploy-staging", options.StagingEnvironment, service,
            options.RequiresApproval(options.StagingEnvironment), options.StagingRollout));
        AddStage("release", "staging",
            Deploy("deploy-production", options.ProductionEnvironment, service, options.RequiresApproval(options.ProductionEnvironment), options.ProductionRollout));
        return Result(stages, graph);
    }

    private static RunPlan Result(List<PlanStage> stages, List<PlanGraphNode> graph, string? note = null) =>
        new() { Pipeline = "default", ConfigPath = BlubberPath, Stages = stages, Graph = graph, Notes = note is null ? null : [note] };

    private static PlanStep Build(string name, string variant) => new()
    {
        Name = name, Kind = StepKind.Build,
        Build = new BuildParams { Variant = variant, Blubberfile = BlubberPath, Context = "." },
    };

    private static PlanStep Deploy(string name, string environment, string service, bool approval, IReadOnlyList<RolloutPhase> rollout) => new()
    {
        Name = name, Kind = StepKind.Deploy,
        Deploy = new DeployParams { Environment = environment, Service = service, RequiresApproval = approval, Rollout = rollout },
    };
}
