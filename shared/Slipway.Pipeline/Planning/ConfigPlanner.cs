using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// <c>.pipeline/config.yaml</c> → one <see cref="RunPlan"/> per pipeline the trigger runs. Which pipelines run
/// follows WMF's jobs: publish, deploy and promote (and trigger) only post-merge, and only on a release branch.
/// </summary>
internal static class ConfigPlanner
{
    public static IReadOnlyList<RunPlan> Plan(string text, BlubberFiles files, PlanningContext context, PlanningOptions options)
    {
        var config = PipelineConfigParser.Parse(text, PipelineConfig.DefaultPath, options.Limits);
        var postMerge = ReleaseBranches.IsPostMerge(context);
        var allowed = postMerge ? PipelineValidator.AllActions : PipelineValidator.PreMergeActions;

        List<PipelineDefinition> chosen;
        if (options.Pipelines is { } names)
        {
            chosen = [];
            foreach (var name in names.Distinct())
                chosen.Add(config.Find(name)
                    ?? throw new PipelineConfigException($"Pipeline '{name}' is not defined in project's '{PipelineConfig.DefaultPath}'"));
        }
        else
        {
            // Not asked for by name: a pipeline that needs post-merge actions simply does not run on a patchset.
            chosen = config.Pipelines.Where(p => p.Stages.All(s => s.Actions().All(allowed.Contains))).ToList();
        }

        foreach (var pipeline in chosen)
        {
            var errors = PipelineValidator.Validate(pipeline, allowed);
            if (errors.Count > 0) throw new PipelineConfigException(PipelineValidator.Format(errors));
        }
        var plans = chosen.Select(p => new PipelinePlanner(p, files, context, options).Plan());
        // A merge on a branch that is not a release branch: planned (and so checked) in full, then built and tested only.
        if (postMerge && !ReleaseBranches.Releases(context, options))
            plans = plans.Select(p => ReleaseBranches.BuildAndTestOnly(p, ReleaseBranches.Note(context, options)));
        return plans.ToList();
    }
}
