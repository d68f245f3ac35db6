using Microsoft.Extensions.Logging;
using Slipway.BuildConfig;
using Slipway.Builder.Building;
using Slipway.Builder.Git;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using Slipway.Runs;

namespace Slipway.Builder.Runs;

/// <summary>Build steps: the stage's Blubber variant built from the run's revision, labelled with the run and commit.</summary>
public sealed class BuildStepPerformer(Workspaces workspaces, ImageBuilder builder, BuilderOptions buildOptions, TimeProvider clock,
    CopiedFilesOverlay copied, BuildAhead ahead, ILogger<BuildStepPerformer> logger) : IStepPerformer
{
    // A build step waits for a slot before it announces build.started, so the events show the builds that really run
    // at once (at most Builder:MaxConcurrentBuilds per builder instance), not the ones queued for a slot.
    private readonly SemaphoreSlim _slots = new(buildOptions.MaxConcurrentBuilds);

    private readonly Lazy<Policy?> _policy = new(() =>
        string.IsNullOrWhiteSpace(buildOptions.PolicyFile) ? null : Policy.Parse(File.ReadAllText(buildOptions.PolicyFile)));

    public StepKind Kind => StepKind.Build;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Build ?? throw new InvalidOperationException($"step {x.Step.Name} has no build parameters");
        // Refused at planning (its Blubber file or variant): this build fails with the planner's reason, once every
        // other branch of the run that can still run has finished, so the steps that do not need its image all run.
        if (p.Refusal is not null && OtherBranchesRunning(x)) return StepResult.Wait();
        // Built ahead while the steps before it ran: let that build finish, then this step reuses its image.
        await ahead.WaitAsync(x.RunId, x.Step.Name, ct);
        await _slots.WaitAsync(ct);
        StepResult result;
        try
        {
            result = await BuildAsync(x, p, ct);
        }
        finally
        {
            _slots.Release();
        }
        if (result is StepResult.Finished { Outcome: StepOutcome.Succeeded }) StartNextBuildAhead(x);
        return result;
    }

    private async Task<StepResult> BuildAsync(StepExecution x, BuildParams p, CancellationToken ct)
    {
        var trigger = x.Trigger;
        var startedAt = clock.GetUtcNow();
        x = x with { StartedAt = startedAt };
        await x.EmitAsync(x.Started(new BuildStarted { Variant = p.Variant, Project = trigger.Project, Revision = trigger.Revision }));

        if (p.Refusal is { } refusal) return Failed(x, p, refusal, null);
        var (request, refused) = await RequestAsync(x.Run, x.Stage, x.Step, p, ct);
        if (request is null) return Failed(x, p, refused!, null);

        var result = await builder.BuildAsync(request, null, ct);
        if (!result.Succeeded) return Failed(x, p, result.Reason ?? "the build failed", result.OutputTail);
        return StepResult.Succeeded(x.Finished(new BuildSucceeded
        {
            Variant = p.Variant, Project = trigger.Project,
            Revision = trigger.Revision, ImageId = result.ImageId!, ImageRef = result.ImageRef!, SizeBytes = result.SizeBytes,
            // Built ahead by this very run (StartNextBuildAhead) is this run's build, not a reuse of another run's.
            ReusedFromRun = result.ReusedFromRun is { } run && run != x.RunId ? Truncate(run, 128) : null,
        }));
    }

    /// <summary>The build request of a run's build step, or why its inputs are refused.</summary>
    private async Task<(ImageBuildRequest? Request, string? Refused)> RequestAsync(RunState run, PlanStage stage, PlanStep step, BuildParams p, CancellationToken ct)
    {
        var trigger = run.Started.Trigger;
        string src, context;
        string? blubberText;
        try
        {
            src = await workspaces.EnsureAsync(run.RunId, trigger, ct, submodules: run.Started.Plan.Submodules == true, gitDirectory: true,
                depth: run.Started.Plan.FetchDepth ?? GitRevisionCache.CheckoutDepth, tags: run.Started.Plan.FetchTags == true);
            // The files earlier stages copied out of their run containers (PipelineLib's copy), over the revision.
            var tree = copied.Prepare(run.Started.Plan, run.RunId, stage.Name, src, workspaces.StepTreeOf(run.RunId, step.Name));
            // The context resolved inside the revision, links included. The Blubber file is the repository's, found as
            // PipelineLib finds it from any `directory` or `context` (relative to the repository, not the context), and
            // read inside the revision; the context is what the engine gets.
            context = ContainedTree.Resolve(tree, p.Context ?? ".");
            if (ContainedTree.Inspect(context).Kind != TreeEntryKind.Directory)
                return (null, $"build context '{p.Context}' is not a directory of the repository");
            blubberText = p.BlubberConfig is { } inline ? OtherVariantsOnly(inline) ?? inline
                : OtherVariantsOnly(RepositoryFiles.Read(src, p.Blubberfile ?? ".pipeline/blubber.yaml", Limits.Default.MaxFileBytes));
        }
        catch (Exception e) when (e is UnsafePathException or CopyOverlayException or RevisionRefusedException
            or PipelineConfigException) // the Blubber file refused by the contained reader (a link out of the revision)
        {
            return (null, e.Message);
        }
        IReadOnlyList<string>? excludes;
        try
        {
            // Runtime outputs of earlier steps in build.excludes (PipelineLib's `${list.output}`): data, checked as lines by ImageBuilder.
            excludes = p.ExcludesEach is { } each ? RuntimeOutputResolver.Expand(each, "build.excludes", run)
                : p.Excludes?.Select((e, i) => RuntimeOutputResolver.Field(e, $"build.excludes[{i}]", step.Runtime, run)).ToList();
        }
        catch (RuntimeOutputException e)
        {
            return (null, e.Message);
        }

        return (new ImageBuildRequest
        {
            ContextDir = context, BlubberRoot = src, BlubberFile = p.Blubberfile ?? ".pipeline/blubber.yaml", BlubberText = blubberText,
            Excludes = excludes,
            Variant = p.Variant, Policy = _policy.Value, Project = trigger.Project,
            // The same inputs built before (e.g. the merge run of the commit its patch set's run built, or this step
            // built ahead) are not built again; a recheck is someone asking for a new build, so it always builds.
            ReuseIdenticalImage = buildOptions.ReuseIdenticalImages && trigger.Kind != TriggerKind.Recheck,
            Tag = $"slipway/{ImageNames.Sanitize(trigger.Project)}:{run.RunId[..8]}-{ImageNames.Sanitize(step.Name)}",
            Labels = new Dictionary<string, string>
            {
                ["slipway.run"] = run.RunId, ["slipway.project"] = trigger.Project, ["slipway.revision"] = trigger.Revision,
                ["slipway.ref"] = trigger.Ref, ["slipway.step"] = step.Name,
            },
        }, null);
    }

    /// <summary>
    /// After a build succeeded, the run's next build step that is not due yet (it waits for a test's run, say) is
    /// built now when a build slot is free, so that when its turn comes it reuses the image instead of building. Only
    /// where reuse applies (not on a recheck), and not when a step copies files into later builds (a build now would
    /// miss them). A failed step or the run's end cancels it (<see cref="BuilderEventHandler"/>).
    /// </summary>
    private void StartNextBuildAhead(StepExecution x)
    {
        if (!buildOptions.BuildAhead || !buildOptions.ReuseIdenticalImages || x.Trigger.Kind == TriggerKind.Recheck) return;
        var run = x.Run;
        // A later build gets the files earlier stages' run steps copy out (PipelineLib's copy): not known yet.
        if (run.Progress.Steps.Any(s => s.Step.Run?.Copy is { Count: > 0 } || s.Step.Run?.CopyFor is { Count: > 0 })) return;
        var due = run.Due.Select(d => d.Step.Name).ToHashSet();
        var next = run.Progress.Steps.SkipWhile(s => s.Step.Name != x.Step.Name).Skip(1)
            .FirstOrDefault(s => s.Step.Kind == StepKind.Build && s.Step.Build is { Refusal: null }
                && !run.Steps.ContainsKey(s.Step.Name) && !due.Contains(s.Step.Name));
        if (next.Step?.Build is not { } p || !_slots.Wait(0)) return;
        var started = ahead.TryStart(run.RunId, next.Step.Name, async ct =>
        {
            try
            {
                var (request, _) = await RequestAsync(run, next.Stage, next.Step, p, ct);
                if (request is null) return; // the step itself reports it
                var result = await builder.BuildAsync(request, null, ct);
                logger.LogInformation("run {RunId}: built step {Step} ahead: {Outcome}", run.RunId, next.Step.Name,
                    result.Succeeded ? result.ImageId : result.Reason);
            }
            finally
            {
                _slots.Release();
            }
        });
        if (!started) _slots.Release();
    }

    /// <summary>
    /// Whether a step of the run other than a refused build is due or running (steps waiting for a human's approval
    /// excepted: a refused branch does not wait for one).
    /// </summary>
    private static bool OtherBranchesRunning(StepExecution x) =>
        x.Run.Due.Any(r => r.Step.Build?.Refusal is null
            && r.Step.EnvironmentsNeedingApproval() is var approvals && approvals.All(x.Run.Approved));

    /// <summary>
    /// The Blubber file without the variants Blubber refuses (the planner refused their builds alone), so the other
    /// variants build; null to let the builder read the file as it is (nothing refused, or refused as a whole, which
    /// the build then reports).
    /// </summary>
    private static string? OtherVariantsOnly(string? text)
    {
        if (text is null) return null;
        try
        {
            var tolerant = TolerantBlubber.Parse(text, Limits.Default);
            return tolerant.Refused.Count > 0 ? tolerant.Text : null;
        }
        catch (BlubberException)
        {
            return null;
        }
    }

    public IStepFailedEvent Failure(StepExecution x, string reason) => FailedEvent(x, x.Step.Build?.Variant ?? "?", reason, null);

    private static StepResult Failed(StepExecution x, BuildParams p, string reason, string? tail) =>
        StepResult.Failed(FailedEvent(x, p.Variant, reason, tail), reason);

    private static BuildFailed FailedEvent(StepExecution x, string variant, string reason, string? tail) =>
        x.Finished(new BuildFailed
        {
            Variant = variant, Project = x.Trigger.Project,
            Revision = x.Trigger.Revision, Reason = Truncate(reason, 4096), OutputTail = tail,
        });

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}

/// <summary>Docker repository and tag names from free text (project names, step names).</summary>
public static class ImageNames
{
    public static string Sanitize(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/' ? c : '-').ToArray();
        var s = new string(chars).Trim('-', '.', '_', '/');
        while (s.Contains("//")) s = s.Replace("//", "/");
        return s.Length == 0 ? "project" : s;
    }
}
