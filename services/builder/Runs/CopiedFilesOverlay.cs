using Slipway.Artifacts;
using Slipway.Contracts;

namespace Slipway.Builder.Runs;

/// <summary>
/// PipelineLib's <c>copy</c> as a later build sees it: the files the run steps of the stages this build's stage follows
/// (its ancestors in the execution graph) copied out of their containers, laid over the run's revision. A build with
/// such files gets its own tree (<c>&lt;workspace&gt;/steps/&lt;step&gt;</c>): the revision's files (links kept as links),
/// then each ancestor's copy in plan order. A stage's copy is what it took out of earlier stages' containers (in plan
/// order of those stages), then what it took out of its own; files a stage took out of an earlier stage's container are
/// that stage's only, so the earlier stage's other descendants never see them. The revision itself is left untouched,
/// so the Blubber file is always the repository's and parallel branches never see each other's copies.
/// </summary>
public sealed class CopiedFilesOverlay(RunArtifactStore store)
{
    /// <summary>The stages whose copies this stage's builds get, in plan order; empty when none.</summary>
    public static IReadOnlyList<string> CopyingAncestors(RunPlan plan, string stage)
    {
        var ancestors = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([stage]);
        while (pending.TryPop(out var s))
            foreach (var d in plan.Graph.FirstOrDefault(n => n.Stage == s)?.DependsOn ?? [])
                if (ancestors.Add(d)) pending.Push(d);
        var owners = OwnersOfCopies(plan);
        return plan.Stages.Where(s => ancestors.Contains(s.Name) && owners.Contains(s.Name)).Select(s => s.Name).ToList();
    }

    // Stages with copied files: their own run step's, or taken by an earlier stage's run step for them.
    private static HashSet<string> OwnersOfCopies(RunPlan plan)
    {
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stage in plan.Stages)
            foreach (var step in stage.Steps)
            {
                if (step.Run?.Copy is { Count: > 0 }) owners.Add(stage.Name);
                foreach (var later in step.Run?.CopyFor ?? []) owners.Add(later.Stage);
            }
        return owners;
    }

    /// <summary>Where <paramref name="stage"/>'s copied files come from, in overlay order: earlier stages' containers, then its own (null).</summary>
    private static IEnumerable<string?> Sources(RunPlan plan, string stage)
    {
        foreach (var s in plan.Stages)
            if (s.Steps.Any(x => x.Run?.CopyFor?.Any(c => c.Stage == stage) == true)) yield return s.Name;
        if (plan.Stages.FirstOrDefault(s => s.Name == stage)?.Steps.Any(x => x.Run?.Copy is { Count: > 0 }) == true) yield return null;
    }

    /// <summary>
    /// The tree to build from: <paramref name="revision"/> itself when no ancestor copied anything, else a fresh tree
    /// under <paramref name="stepDirectory"/>. Throws <see cref="CopyOverlayException"/> with the reason when a copy
    /// is missing or would land through a link of the repository.
    /// </summary>
    public string Prepare(RunPlan plan, string runId, string stage, string revision, string stepDirectory)
    {
        var stages = CopyingAncestors(plan, stage);
        if (stages.Count == 0) return revision;
        if (!store.Configured) throw new CopyOverlayException(store.NotConfiguredReason);
        if (Directory.Exists(stepDirectory)) Directory.Delete(stepDirectory, recursive: true); // an earlier attempt's
        CopyTree(revision, stepDirectory);
        foreach (var owner in stages)
            foreach (var container in Sources(plan, owner))
            {
                var copied = store.StageDirectory(runId, owner, container)
                    ?? throw new CopyOverlayException($"the files stage `{owner}` copied" + (container is null ? "" : $" out of stage `{container}`'s container") +
                        " are not in the run artifact directory (Artifacts:Directory must be the same directory for the tester and the builder)");
                Overlay(copied, stepDirectory, "");
            }
        return stepDirectory;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(target, link); // a link stays a link, never followed
            else if (entry is DirectoryInfo dir) CopyTree(dir.FullName, target);
            else File.Copy(entry.FullName, target);
        }
    }

    private static void Overlay(string from, string to, string relative)
    {
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var rel = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            var target = new FileInfo(Path.Combine(to, entry.Name));
            if (entry.LinkTarget is not null)
                throw new CopyOverlayException($"the copied `{rel}` is a link in the run artifact directory; links are not copied");
            if (target.LinkTarget is not null)
                throw new CopyOverlayException($"a copy's destination `{rel}` is a symbolic link of the repository; a copy never writes through a link");
            if (entry is DirectoryInfo dir)
            {
                if (target.Exists) throw new CopyOverlayException($"a copy's directory `{rel}` is a file of the repository");
                Directory.CreateDirectory(target.FullName);
                Overlay(dir.FullName, target.FullName, rel);
            }
            else
            {
                if (Directory.Exists(target.FullName)) throw new CopyOverlayException($"a copied file `{rel}` is a directory of the repository");
                File.Copy(entry.FullName, target.FullName, overwrite: true);
            }
        }
    }
}

/// <summary>Why a build cannot get the files earlier stages copied; the build step fails with it.</summary>
public sealed class CopyOverlayException(string message) : Exception(message);
