using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Reads <c>.pipeline/</c> at the triggering revision and returns the plans the builder puts into
/// <c>run.started</c>: the pipelines of <c>config.yaml</c>, each planned on its own as PipelineLib's jobs were (one
/// pipeline's refusal leaves the others planned), or the canonical flow when only <c>blubber.yaml</c> exists.
/// The builder and <c>slipway plan</c> both call this. A bad config is a refusal in the result, never an exception;
/// an exception from <c>readFile</c> (git failing) propagates, since retrying may fix it.
/// </summary>
public static class RunPlanner
{
    public const string ConfigPath = ".pipeline/config.yaml";
    public const string BlubberPath = ".pipeline/blubber.yaml";

    /// <param name="readFile">Reads a repo file at the triggering revision (path relative to the repo root, '/' separators); null when absent.</param>
    public static PlanningResult Plan(Func<string, string?> readFile, PlanningContext context, PlanningOptions? options = null)
    {
        options ??= PlanningOptions.Default;
        var files = new BlubberFiles(readFile, options.BlubberLimits);
        string? config;
        try
        {
            config = readFile(ConfigPath);
        }
        catch (PipelineConfigException e) // the file itself refused (a symbolic link out of the repo, too large)
        {
            return PlanningResult.Refuse(e, ConfigPath);
        }
        try
        {
            if (config is not null) return ConfigPlanner.Plan(config, files, context, options) with { BlubberWarnings = files.Warnings };
            if (!files.Exists(BlubberPath)) return new PlanningResult([], null, false);
            var plan = CanonicalPlanner.Plan(files, context, options);
            return new PlanningResult([plan], null, true) { Order = [plan.Pipeline], BlubberWarnings = files.Warnings };
        }
        catch (PipelineConfigException e)
        {
            return PlanningResult.Refuse(e, config is null ? BlubberPath : ConfigPath);
        }
        catch (BlubberException e)
        {
            return PlanningResult.Refuse(new PipelineConfigException(e.Message, e.Line, BlubberPath), BlubberPath);
        }
        catch (RuntimeReferenceException e) // should be turned into a field message before here; kept as a safety net
        {
            return PlanningResult.Refuse(new PipelineConfigException(e.Message), ConfigPath);
        }
    }
}
