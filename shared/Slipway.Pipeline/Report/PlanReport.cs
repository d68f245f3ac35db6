using System.Globalization;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;

namespace Slipway.Pipeline.Report;

/// <summary>
/// <c>slipway plan</c>: plans a repository's <c>.pipeline/</c> with the builder's own planner (<see cref="RunPlanner"/>)
/// and prints what each run would do, or every refusal as <c>file:line: message</c>. Exit codes, like
/// <c>slipway blubber</c>'s: 0 everything planned; 2 nothing can be planned (no <c>.pipeline/</c>, the config does not
/// parse, an unknown <c>--pipeline</c>); 4 a pipeline or a build refused (what else plans is still printed).
/// </summary>
public static class PlanReport
{
    public const int Ok = 0;
    public const int Unplannable = 2;
    public const int Refused = 4;

    public static int Run(string directory, PlanningContext context, PlanningOptions options, TextWriter stdout, TextWriter stderr)
    {
        if (!Directory.Exists(directory))
        {
            stderr.WriteLine($"plan: {directory}: no such directory");
            return Unplannable;
        }
        var root = Path.GetFullPath(directory);
        PlanningResult result;
        try
        {
            result = RunPlanner.Plan(path => RepositoryFiles.Read(root, path), context, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"plan: cannot read {directory}: {e.Message}");
            return Unplannable;
        }
        return Write(result, context, stdout, stderr);
    }

    /// <summary>Prints <paramref name="result"/>; returns the exit code.</summary>
    public static int Write(PlanningResult result, PlanningContext context, TextWriter stdout, TextWriter stderr)
    {
        if (!result.HasPipeline)
        {
            stderr.WriteLine($"plan: no {RunPlanner.ConfigPath} or {RunPlanner.BlubberPath}: nothing would run");
            return Unplannable;
        }
        if (result.Error is not null)
        {
            stderr.WriteLine(Located(result.ErrorAt ?? new PlanRefusal(null, result.Error, RunPlanner.ConfigPath, 0)));
            return Unplannable;
        }

        var trigger = context.Trigger is TriggerKind.Merge or TriggerKind.RefUpdate ? "merge" : "patchset";
        var on = context.Tag is { Length: > 0 } tag ? $"tag {ReleaseBranches.ShortTag(tag)}" : context.Branch;
        stdout.WriteLine($"{((result.Plans.Count > 0 ? result.Plans[0].ConfigPath : null) ?? RunPlanner.ConfigPath)}: {trigger} run of {context.Project} on {on}");
        foreach (var ignored in result.Ignored.Where(i => i.Pipeline is null)) // a pipeline's own are among its plan's notes
            stdout.WriteLine($"note: {Located(ignored)}");
        // Accepted as Blubber (or the version PipelineLib built with) accepted it, with a caveat the build log repeats.
        foreach (var warning in result.BlubberWarnings) stdout.WriteLine($"warning: {warning}");
        var refused = false;
        foreach (var name in result.Order)
        {
            stdout.WriteLine();
            if (result.Refused.FirstOrDefault(r => r.Pipeline == name) is { } refusal)
            {
                stdout.WriteLine($"pipeline {name}: REFUSED (the other pipelines still run)");
                stdout.WriteLine($"  {Located(refusal)}");
                stderr.WriteLine(Located(refusal));
                refused = true;
                continue;
            }
            var plan = result.Plans.First(p => p.Pipeline == name);
            refused |= WritePlan(plan, stdout, stderr);
        }
        foreach (var skip in result.Skipped)
        {
            stdout.WriteLine();
            stdout.WriteLine($"pipeline {skip.Pipeline}: not run on a {trigger} ({skip.Reason})");
        }
        return refused ? Refused : Ok;
    }

    private static bool WritePlan(RunPlan plan, TextWriter o, TextWriter stderr)
    {
        var steps = plan.Stages.SelectMany(s => s.Steps).ToList();
        o.WriteLine($"pipeline {plan.Pipeline}: {plan.Stages.Count} stage(s), {steps.Count} step(s)");
        o.WriteLine("  execution:");
        var frame = 1;
        foreach (var f in Frames(plan))
            o.WriteLine($"    {frame++}. {string.Join(" | ", f)}{(f.Count > 1 ? "  (in parallel)" : "")}");
        o.WriteLine("  stages:");
        foreach (var stage in plan.Stages)
        {
            var deps = plan.Graph.FirstOrDefault(g => g.Stage == stage.Name)?.DependsOn ?? [];
            o.WriteLine($"    {stage.Name}{(deps.Count > 0 ? $" (after {string.Join(", ", deps)})" : "")}{(stage.Steps.Count == 0 ? ": no steps" : "")}");
            foreach (var step in stage.Steps) o.WriteLine($"      {step.Name}: {Describe(step)}");
        }

        var refused = false;
        var builds = steps.Where(s => s.Build is not null).ToList();
        if (builds.Count > 0)
        {
            o.WriteLine("  images built:");
            foreach (var b in builds)
            {
                var p = b.Build!;
                o.WriteLine($"    {b.Name}: variant {p.Variant} of {p.Blubberfile ?? RunPlanner.BlubberPath}{(p.Refusal is null ? "" : " — REFUSED")}");
                if (p.Refusal is { } why)
                {
                    stderr.WriteLine($"pipeline `{plan.Pipeline}`: step `{b.Name}`: {why}");
                    refused = true;
                }
            }
        }
        var publishes = steps.Where(s => s.Publish is not null).ToList();
        o.WriteLine(publishes.Count == 0 ? "  publishes: nothing" : "  publishes:");
        foreach (var s in publishes)
            o.WriteLine($"    {s.Publish!.Name ?? "(project name)"} from {s.Publish.ImageFrom}, tags <timestamp>-<stage>, <commit>{string.Concat((s.Publish.Tags ?? []).Select(t => ", " + t))}"
                + (s.Publish.TagsEach is not null ? ", and the tags its `$each` over an earlier step's output yields when it runs" : ""));
        var deploys = steps.Where(s => s.Deploy is not null || s.Promote is not null).ToList();
        o.WriteLine(deploys.Count == 0 ? "  deploys: nothing" : "  deploys:");
        foreach (var s in deploys)
            o.WriteLine($"    {s.Name}: {Describe(s)}" + RuntimeNote(s.Runtime));
        if (plan.Submodules == true)
            o.WriteLine("  sources: the revision with its git submodules (.gitmodules; fetched by the builder from its own git server or allowed URLs only)");
        if (plan.FetchTags == true)
            o.WriteLine("  sources: the build's .git holds the project's tags (fetch.tags; fetched by the builder from its own git server)");
        foreach (var note in plan.Notes ?? []) o.WriteLine($"  note: {note}");
        return refused;
    }

    // Fields that hold earlier steps' outputs (`${lint.output}`): shown as written, resolved when the step runs.
    private static string RuntimeNote(IReadOnlyDictionary<string, RuntimeTemplate>? runtime) => runtime is { Count: > 0 }
        ? $"; resolved when it runs: {string.Join(", ", runtime.Keys.Order(StringComparer.Ordinal))}"
        : "";

    private static string Describe(PlanStep s) => s.Kind switch
    {
        StepKind.Build => $"build variant {s.Build!.Variant} from {s.Build.Blubberfile}, context {s.Build.Context ?? "."}"
            + (s.Build.Excludes is { } ex ? $", excludes [{string.Join(", ", ex)}]" : "")
            + (s.Build.ExcludesEach is not null ? ", excludes from an earlier step's output ($each)" : "")
            + (s.Build.Refusal is not null ? " (REFUSED: fails when due)" : ""),
        StepKind.Test => $"run the image of {s.Run?.ImageFrom}"
            + (s.Run?.Arguments is { Count: > 0 } a ? $" with arguments [{string.Join(", ", a)}]" : "")
            + (s.Run?.Env is { Count: > 0 } env ? $", env {string.Join(", ", env.Keys)}" : "")
            + (s.Run?.Tail is { } t ? $", keep {t.ToString(CultureInfo.InvariantCulture)} lines" : "")
            + (s.Run?.Copy is { Count: > 0 } copies
                ? ", then copy " + string.Join(", ", copies.Select(c => $"{c.Source} to {c.Destination}" + (c.Archive ? " (archived)" : "")))
                : "")
            + string.Concat((s.Run?.CopyFor ?? []).Select(g => $", then copy for stage {g.Stage} "
                + string.Join(", ", g.Copy.Select(c => $"{c.Source} to {c.Destination}" + (c.Archive ? " (archived)" : ""))))),
        StepKind.Smoke => $"smoke-test the image of {s.Smoke?.ImageFrom} on port {s.Smoke?.Port}",
        StepKind.Publish => $"publish the image of {s.Publish?.ImageFrom} as {s.Publish?.Name ?? "(project name)"}",
        StepKind.Deploy => $"deploy {s.Deploy!.Service} to {s.Deploy.Environment}{(s.Deploy.RequiresApproval ? " after approval" : "")}"
            + (s.Deploy.Rollout is { Count: > 0 } r ? $", rollout {string.Join(" → ", r.Select(x => $"{x.Stage.ToString().ToLowerInvariant()} {x.Percentage}%"))}" : ""),
        // No environments: PipelineLib's update_version.py sets the chart's main values file, for every environment.
        StepKind.Promote => $"promote {s.Promote!.Chart} in " + (s.Promote.Environments.Count == 0
            ? "every environment (the chart's main values file)" : string.Join(", ", s.Promote.Environments))
            + (s.Promote.RequiresApprovalFor is { Count: > 0 } ap ? $" (approval for {string.Join(", ", ap)})" : ""),
        StepKind.Trigger => $"request job {s.Trigger!.Job}"
            + (s.Trigger.Parameters is { Count: > 0 } tp ? $" with {string.Join(", ", tp.Select(x => $"{x.Key}={x.Value}"))}" : ""),
        _ => s.Kind.ToString(),
    };

    /// <summary>The graph's frames as PipelineLib's <c>ExecutionGraph.stack()</c> gives them: roots, then each stage once its predecessors ran.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Frames(RunPlan plan)
    {
        var frames = new List<IReadOnlyList<string>>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        while (done.Count < plan.Graph.Count)
        {
            var frame = plan.Graph.Where(g => !done.Contains(g.Stage) && g.DependsOn.All(done.Contains)).Select(g => g.Stage).ToList();
            if (frame.Count == 0) break; // the planner refuses cycles; never loop
            frames.Add(frame);
            done.UnionWith(frame);
        }
        return frames;
    }

    private static string Located(PlanRefusal r)
    {
        var where = r.Line > 0 ? $"{r.File}:{r.Line.ToString(CultureInfo.InvariantCulture)}" : r.File;
        // The schema's messages already say "file: line N: key.path: …": said once, in the file:line form.
        var own = r.Line > 0 ? $"{r.File}: line {r.Line.ToString(CultureInfo.InvariantCulture)}: " : $"{r.File}: ";
        if (r.Message.StartsWith(own, StringComparison.Ordinal)) return $"{where}: {r.Message[own.Length..]}";
        var named = r.Pipeline is null || r.Message.Contains($"pipeline `{r.Pipeline}`", StringComparison.Ordinal);
        return $"{where}: {(named ? "" : $"pipeline `{r.Pipeline}`: ")}{r.Message}";
    }
}
