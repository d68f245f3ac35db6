using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Only release branches publish and deploy: a merge or branch update on a branch not in
/// <see cref="PlanningOptions.ReleaseBranches"/> builds and tests only. The plan then leaves out its publish, deploy and
/// promote steps and carries a note saying so, which the reporter shows in Gerrit. A new tag's run (no branch) releases
/// when <see cref="PlanningOptions.ReleaseTags"/> is on.
/// </summary>
public static class ReleaseBranches
{
    private static readonly StepKind[] ReleaseKinds = [StepKind.Publish, StepKind.Deploy, StepKind.Promote];

    public static bool IsPostMerge(PlanningContext context) => context.Trigger is TriggerKind.Merge or TriggerKind.RefUpdate;

    /// <summary>True when the trigger is a merge or update of a configured release branch, or a new tag when tags release.</summary>
    public static bool Releases(PlanningContext context, PlanningOptions options) =>
        IsPostMerge(context) && (context.Tag is { Length: > 0 }
            ? options.ReleaseTags
            : context.Branch is { } branch && options.ReleaseBranches.Contains(Short(branch), StringComparer.Ordinal));

    /// <summary>A branch or tag run that is not a release: the note the plan carries.</summary>
    public static string Note(PlanningContext context, PlanningOptions options) => context.Tag is { Length: > 0 } tag
        ? $"tag `{ShortTag(tag)}`: tags do not release here (Pipeline:ReleaseTags is off): this run builds and tests only; it publishes, deploys and promotes nothing"
        : $"branch `{Short(context.Branch ?? "")}` is not a release branch ({string.Join(", ", options.ReleaseBranches)}): " +
          "this run builds and tests only; it publishes, deploys and promotes nothing";

    /// <summary>The tag's name without <c>refs/tags/</c>: <c>${setup.tag}</c>.</summary>
    public static string ShortTag(string tag) => tag.StartsWith(TriggerTags.Prefix, StringComparison.Ordinal) ? tag[TriggerTags.Prefix.Length..] : tag;

    /// <summary>The plan without its publish, deploy and promote steps (stages left empty stay, so the graph holds).</summary>
    public static RunPlan BuildAndTestOnly(RunPlan plan, string note)
    {
        var removed = plan.Stages.SelectMany(s => s.Steps).Count(s => ReleaseKinds.Contains(s.Kind));
        if (removed == 0) return plan;
        return plan with
        {
            Stages = plan.Stages.Select(s => s with { Steps = s.Steps.Where(x => !ReleaseKinds.Contains(x.Kind)).ToList() }).ToList(),
            Notes = [.. plan.Notes ?? [], note],
        };
    }

    private static string Short(string branch) => branch.StartsWith("refs/heads/", StringComparison.Ordinal) ? branch["refs/heads/".Length..] : branch;
}
