using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// <c>.pipeline/config.yaml</c> → one <see cref="RunPlan"/> per pipeline the trigger runs, each planned on its own as
/// PipelineLib's per-pipeline jobs were: a pipeline refused (schema, validation, planning) is reported alone and the
/// others are planned. Which pipelines run follows WMF's jobs: publish, deploy and promote (and trigger) only
/// post-merge, and only on a release branch.
/// </summary>
internal static class ConfigPlanner
{
    public static PlanningResult Plan(string text, BlubberFiles files, PlanningContext context, PlanningOptions options)
    {
        var config = PipelineConfigParser.Parse(text, PipelineConfig.DefaultPath, options.Limits);
        var postMerge = ReleaseBranches.IsPostMerge(context);
        var allowed = postMerge ? PipelineValidator.AllActions : PipelineValidator.PreMergeActions;

        IReadOnlyList<string> chosen = config.Names;
        if (options.Pipelines is { } names)
        {
            foreach (var name in names)
                if (!config.Names.Contains(name))
                    throw new PipelineConfigException($"Pipeline '{name}' is not defined in project's '{PipelineConfig.DefaultPath}'");
            chosen = names.Distinct().ToList();
        }

        var plans = new List<RunPlan>();
        var refused = new List<PlanRefusal>();
        var skipped = new List<PipelineSkip>();
        var order = new List<string>();
        foreach (var name in chosen)
        {
            if (config.Refused.FirstOrDefault(r => r.Pipeline == name) is { } schemaRefusal)
            {
                refused.Add(schemaRefusal);
                order.Add(name);
                continue;
            }
            var pipeline = config.Find(name)!;
            var notAllowed = pipeline.Stages.SelectMany(s => s.Actions()).Where(a => !allowed.Contains(a)).Distinct().ToList();
            if (options.Pipelines is null && notAllowed.Count > 0)
            {
                // Not asked for by name: a pipeline that needs post-merge actions simply does not run on a patchset.
                skipped.Add(new PipelineSkip(name, $"uses {string.Join(", ", notAllowed)}, allowed only after merge"));
                continue;
            }
            order.Add(name);
            var errors = PipelineValidator.Validate(pipeline, allowed);
            if (errors.Count > 0)
            {
                refused.Add(new PlanRefusal(name, PipelineValidator.Format(errors), PipelineConfig.DefaultPath, pipeline.Line));
                continue;
            }
            try
            {
                // Its own run's id, by the rule the builder starts the runs with (the order is final up to this entry).
                var own = context with { RunId = context.RunId is { } trigger ? PipelineRunId.Of(trigger, order, order.Count - 1) : null };
                var plan = new PipelinePlanner(pipeline, files, own, options).Plan();
                // A key PipelineLib would ignore in this pipeline is said in its run's report (likely a misspelling).
                if (config.Ignored.Where(i => i.Pipeline == name).Select(i => $"{i.File}: line {i.Line}: {i.Message}").ToList() is { Count: > 0 } ignored)
                    plan = plan with { Notes = [.. plan.Notes ?? [], .. ignored] };
                // A merge on a branch that is not a release branch: planned (and so checked) in full, then built and tested only.
                if (postMerge && !ReleaseBranches.Releases(context, options))
                    plan = ReleaseBranches.BuildAndTestOnly(plan, ReleaseBranches.Note(context, options));
                plans.Add(plan);
            }
            catch (PipelineConfigException e)
            {
                refused.Add(PlanRefusal.From(e, name, PipelineConfig.DefaultPath));
            }
        }
        return new PlanningResult(plans, null, true) { Refused = refused, Skipped = skipped, Order = order, Ignored = config.Ignored };
    }
}
