using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Reads <c>.pipeline/</c> at the triggering revision and returns the plans the builder puts into
/// <c>run.started</c>: the pipelines of <c>config.yaml</c>, or the canonical flow when only <c>blubber.yaml</c> exists.
/// A bad config is a <see cref="PlanningResult.Error"/>, never an exception; an exception from
/// <c>readFile</c> (git failing) propagates, since retrying may fix it.
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
        var config = readFile(ConfigPath);
        try
        {
            if (config is not null) return new PlanningResult(ConfigPlanner.Plan(config, files, context, options), null, true);
            if (!files.Exists(BlubberPath)) return new PlanningResult([], null, false);
            return new PlanningResult([CanonicalPlanner.Plan(files, context, options)], null, true);
        }
        catch (PipelineConfigException e)
        {
            return new PlanningResult([], e.Message, true);
        }
        catch (BlubberException e)
        {
            return new PlanningResult([], e.Message, true);
        }
        catch (RuntimeReferenceException e) // should be turned into a field message before here; kept as a safety net
        {
            return new PlanningResult([], e.Message, true);
        }
    }
}
