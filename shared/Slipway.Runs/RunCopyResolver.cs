using System.Text.Json;
using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// A run step's <c>copy</c> entries with the paths that hold runtime outputs (PipelineLib interpolated the copy list when
/// the stage ran) resolved from the run's results and checked as written paths are at planning (<see cref="CopyPaths"/>).
/// The templates are the step's <see cref="PlanStep.Runtime"/> keys <c>copy[i].source</c> and <c>copy[i].destination</c>.
/// Used by the tester before it copies, and for <c>artifactURLs</c>, which lists the resolved destinations.
/// </summary>
public static class RunCopyResolver
{
    /// <exception cref="RuntimeOutputException">A referenced result is missing, or a resolved path is refused.</exception>
    public static IReadOnlyList<RunCopy> Resolve(PlanStep step, IReadOnlyList<RunCopy> copies, string runId, RunPlan plan, Func<string, JsonElement?> results)
    {
        if (step.Runtime is not { Count: > 0 } runtime) return copies;
        var resolved = new List<RunCopy>(copies.Count);
        for (var i = 0; i < copies.Count; i++)
        {
            var copy = copies[i];
            if (runtime.TryGetValue($"copy[{i}].source", out var source))
                copy = copy with { Source = Path($"copy[{i}].source", source, runId, plan, results, CopyPaths.ContainerSource) };
            if (runtime.TryGetValue($"copy[{i}].destination", out var destination))
                copy = copy with { Destination = Path($"copy[{i}].destination", destination, runId, plan, results, CopyPaths.WorkspaceDestination) };
            resolved.Add(copy);
        }
        return resolved;
    }

    private delegate string? Check(string path, out string? error);

    private static string Path(string field, RuntimeTemplate template, string runId, RunPlan plan, Func<string, JsonElement?> results, Check check) =>
        check(RuntimeOutputResolver.Resolve(template, field, runId, plan, results), out var error)
            ?? throw new RuntimeOutputException($"`{field}`, once its runtime outputs are resolved, {error}");
}
