using Slipway.BuildConfig;
using Slipway.Builder.Building;
using Slipway.Builder.Git;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using Slipway.Runs;

namespace Slipway.Builder.Runs;

/// <summary>Build steps: the stage's Blubber variant built from the run's revision, labelled with the run and commit.</summary>
public sealed class BuildStepPerformer(Workspaces workspaces, ImageBuilder builder, BuilderOptions buildOptions, TimeProvider clock,
    CopiedFilesOverlay copied) : IStepPerformer
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
        await _slots.WaitAsync(ct);
        try
        {
            return await BuildAsync(x, p, ct);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<StepResult> BuildAsync(StepExecution x, BuildParams p, CancellationToken ct)
    {
        var trigger = x.Trigger;
        var startedAt = clock.GetUtcNow();
        x = x with { StartedAt = startedAt };
        await x.EmitAsync(x.Started(new BuildStarted { Variant = p.Variant, Project = trigger.Project, Revision = trigger.Revision }));

        if (p.Refusal is { } refusal) return Failed(x, p, refusal, null);

        string src, context;
        string? blubberText;
        try
        {
            src = await workspaces.EnsureAsync(x.RunId, trigger, ct);
            // The files earlier stages copied out of their run containers (PipelineLib's copy), over the revision.
            var tree = copied.Prepare(x.Run.Started.Plan, x.RunId, x.Stage.Name, src, workspaces.StepTreeOf(x.RunId, x.Step.Name));
            // The context resolved inside the revision, links included. The Blubber file is the repository's, found as
            // PipelineLib finds it from any `directory` or `context` (relative to the repository, not the context), and
            // read inside the revision; the context is what the engine gets.
            context = ContainedTree.Resolve(tree, p.Context ?? ".");
            if (ContainedTree.Inspect(context).Kind != TreeEntryKind.Directory)
                return Failed(x, p, $"build context '{p.Context}' is not a directory of the repository", null);
            blubberText = p.BlubberConfig is { } inline ? OtherVariantsOnly(inline) ?? inline
                : OtherVariantsOnly(RepositoryFiles.Read(src, p.Blubberfile ?? ".pipeline/blubber.yaml", Limits.Default.MaxFileBytes));
        }
        catch (UnsafePathException e)
        {
            return Failed(x, p, e.Message, null);
        }
        catch (CopyOverlayException e)
        {
            return Failed(x, p, e.Message, null);
        }
        catch (RevisionRefusedException e)
        {
            return Failed(x, p, e.Message, null);
        }
        catch (PipelineConfigException e) // the Blubber file refused by the contained reader (a link out of the revision)
        {
            return Failed(x, p, e.Message, null);
        }

        var result = await builder.BuildAsync(new ImageBuildRequest
        {
            ContextDir = context, BlubberRoot = src, BlubberFile = p.Blubberfile ?? ".pipeline/blubber.yaml", BlubberText = blubberText,
            Excludes = p.Excludes,
            Variant = p.Variant, Policy = _policy.Value, Project = trigger.Project,
            // The same inputs built before (e.g. the merge run of the commit its patch set's run built) are not built
            // again; a recheck is someone asking for a new build, so it always builds.
            ReuseIdenticalImage = buildOptions.ReuseIdenticalImages && trigger.Kind != TriggerKind.Recheck,
            Tag = $"slipway/{ImageNames.Sanitize(trigger.Project)}:{x.RunId[..8]}-{ImageNames.Sanitize(x.Step.Name)}",
            Labels = new Dictionary<string, string>
            {
                ["slipway.run"] = x.RunId, ["slipway.project"] = trigger.Project, ["slipway.revision"] = trigger.Revision,
                ["slipway.ref"] = trigger.Ref, ["slipway.step"] = x.Step.Name,
            },
        }, null, ct);

        if (!result.Succeeded) return Failed(x, p, result.Reason ?? "the build failed", result.OutputTail);
        return StepResult.Succeeded(x.Finished(new BuildSucceeded
        {
            Variant = p.Variant, Project = trigger.Project,
            Revision = trigger.Revision, ImageId = result.ImageId!, ImageRef = result.ImageRef!, SizeBytes = result.SizeBytes,
            ReusedFromRun = result.ReusedFromRun is { } run ? Truncate(run, 128) : null,
        }));
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
