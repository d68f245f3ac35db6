using System.Globalization;
using System.Text.RegularExpressions;
using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// The canonical flow of design.md for a repo with only <c>.pipeline/blubber.yaml</c>: test, production (build and
/// smoke test, publish on merges), then staging and an approved, staged production release. The stage and step
/// names are fixed: the services key on them.
/// </summary>
internal static partial class CanonicalPlanner
{
    /// <summary>Docker's tag grammar (the publisher checks every tag against it too).</summary>
    [GeneratedRegex(ContractPatterns.DockerTag)]
    private static partial Regex DockerTag();

    public const string BlubberPath = ".pipeline/blubber.yaml";

    // The one publish step: the deploys name it, so the deployer never guesses "the run's last published image".
    private const string PublishStep = "publish";

    public static RunPlan Plan(BlubberFiles files, PlanningContext context, PlanningOptions options)
    {
        var config = files.Get(BlubberPath);
        var refused = files.RefusedVariants(BlubberPath);
        var hasTest = config.Variant("test") is not null || refused.ContainsKey("test");
        var hasProduction = config.Variant("production") is not null || refused.ContainsKey("production");
        var notes = new List<string>();
        // A variant Blubber refuses refuses its own build only: the step fails with the reason, the others run.
        string? Refusal(string variant)
        {
            try
            {
                files.Variant(BlubberPath, variant);
                return null;
            }
            catch (PipelineConfigException e)
            {
                notes.Add($"variant `{variant}`: {e.Message}; its build fails and the steps that need its image do not run");
                return e.Message;
            }
        }
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
            AddStage("test", null,
                Build("build-test", "test", Refusal("test")),
                new PlanStep { Name = "run-test", Kind = StepKind.Test, Run = new RunParams { ImageFrom = "build-test" } });
        }
        if (!hasProduction) return Result(stages, graph, notes, files);

        var productionRefusal = Refusal("production");
        var production = productionRefusal is null ? files.Variant(BlubberPath, "production") : null;
        var port = production?.Common.Runs.Environment.LastOrDefault(e => e.Key == "PORT").Value is { } p
            && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535 ? n : options.DefaultPort;
        var productionSteps = new List<PlanStep>
        {
            Build("build-production", "production", productionRefusal),
            new()
            {
                Name = "smoke", Kind = StepKind.Smoke,
                Smoke = new SmokeParams { ImageFrom = "build-production", Port = port, SpecPath = "/?spec", HealthPath = "/_info" },
            },
        };
        var postMerge = ReleaseBranches.IsPostMerge(context);
        var release = ReleaseBranches.Releases(context, options);
        if (release)
        {
            // A tag's run also publishes under the tag's name, as PipelineLib's default `tags: [${setup.tag}]` did. A git tag
            // name Docker cannot take (`latest`, `v1+build`) is left out with a note: the image keeps its timestamp and commit.
            var gitTag = ReleaseBranches.ShortTag(context.Tag ?? "");
            var tagName = Names.ImagePart(gitTag);
            string[]? extra = null;
            if (tagName.Length > 0 && tagName != "latest" && DockerTag().IsMatch(tagName)) extra = [tagName];
            else if (gitTag.Length > 0)
                notes.Add($"tag `{gitTag}` is not published as an image tag (`latest`, or not a Docker tag: letters, digits, '_', '.', '-', at most 128): the image is published under its timestamp and commit");
            productionSteps.Add(new PlanStep
            {
                Name = PublishStep, Kind = StepKind.Publish, Publish = new PublishParams { ImageFrom = "build-production", Tags = extra },
            });
        }
        AddStage("production", hasTest ? "test" : null, [.. productionSteps]);
        if (!release)
        {
            if (postMerge) notes.Add(ReleaseBranches.Note(context, options));
            return Result(stages, graph, notes, files);
        }

        var service = Names.Service(Names.ProjectShortName(context.Project));
        AddStage("staging", "production", Deploy("deploy-staging", options.StagingEnvironment, service,
            options.RequiresApproval(options.StagingEnvironment), options.StagingRollout));
        AddStage("release", "staging",
            Deploy("deploy-production", options.ProductionEnvironment, service, options.RequiresApproval(options.ProductionEnvironment), options.ProductionRollout));
        return Result(stages, graph, notes, files);
    }

    // PipelineLib's fetch defaults apply to the canonical flow too: submodules on.
    private static RunPlan Result(List<PlanStage> stages, List<PlanGraphNode> graph, List<string> notes, BlubberFiles files) =>
        new()
        {
            Pipeline = "default", ConfigPath = BlubberPath, Stages = stages, Graph = graph, Notes = notes.Count == 0 ? null : notes,
            Submodules = SubmoduleFile.Exists(files) ? true : null,
        };

    private static PlanStep Build(string name, string variant, string? refusal) => new()
    {
        Name = name, Kind = StepKind.Build,
        Build = new BuildParams { Variant = variant, Blubberfile = BlubberPath, Context = ".", Refusal = refusal },
    };

    private static PlanStep Deploy(string name, string environment, string service, bool approval, IReadOnlyList<RolloutPhase> rollout) => new()
    {
        Name = name, Kind = StepKind.Deploy,
        Deploy = new DeployParams { Environment = environment, Service = service, RequiresApproval = approval, Rollout = rollout, ImageFrom = PublishStep },
    };
}
