using System.Text.Json;
using System.Text.RegularExpressions;
using Slipway.Contracts;

namespace Slipway.Builder.Triggers;

/// <summary>What a Gerrit event means to the builder.</summary>
public abstract record TriggerDecision
{
    /// <summary>Start a run (its id derives from the trigger, so the same trigger seen twice is one run).</summary>
    public sealed record Start(string RunId, RunTrigger Trigger) : TriggerDecision;

    /// <summary>Stop the change's unfinished runs (abandoned; or superseded, for patch sets below <paramref name="BelowPatchset"/>).</summary>
    public sealed record CancelChange(string Project, int Change, int? BelowPatchset, string Reason) : TriggerDecision;

    public sealed record Ignore(string Why) : TriggerDecision;
}

/// <summary>
/// Trigger rules, pure: a Gerrit event and the project's <see cref="TriggerRule"/> in, a decision out.
/// A new patch set both supersedes the change's older runs and starts its own.
/// </summary>
public static class TriggerRules
{
    private const int MaxRefLength = 1024;

    public static IReadOnlyList<TriggerDecision> Decide(GerritEvent e, string gerritEventId, TriggerRule rule,
        IReadOnlyCollection<string>? slipwayAccounts = null)
    {
        if (e.Project is null) return [new TriggerDecision.Ignore("no project")];
        if (e.Type == "change-abandoned" && e.ChangeNumber is { } abandoned)
            return [new TriggerDecision.CancelChange(e.Project, abandoned, null, "the change was abandoned")];
        if (e.Branch is { } branch && !BranchMatches(rule, branch)) return [new TriggerDecision.Ignore($"branch {branch} is not configured")];

        // A run's trigger holds the ref (at most 1,024 characters, as run.started's schema says): a longer one starts nothing.
        if (e.Type == "ref-updated" && e.RefUpdate is { RefName.Length: > MaxRefLength } longRef)
            return [new TriggerDecision.Ignore($"ref name longer than {MaxRefLength} characters ({longRef.RefName.Length})")];

        switch (e.Type)
        {
            case "patchset-created" when e.ChangeNumber is { } change && e.PatchSetNumber is { } ps && e.Revision is { } rev && e.Ref is { } psRef:
            {
                var decisions = new List<TriggerDecision>();
                if (ps > 1) decisions.Add(new TriggerDecision.CancelChange(e.Project, change, ps, $"superseded by patch set {ps}"));
                if (Skip(e, rule, checkKind: true) is { } why) { decisions.Add(new TriggerDecision.Ignore(why)); return decisions; }
                decisions.Add(new TriggerDecision.Start(DeterministicId.From("run", "patchset", e.Project, change.ToString(), ps.ToString(), rev),
                    ChangeTrigger(e, TriggerKind.Patchset, psRef, rev, gerritEventId, e.Uploader ?? e.Author)));
                return decisions;
            }
            case "comment-added" when e.ChangeNumber is not null && e.Revision is { } rev && e.Ref is { } psRef:
            {
                if (!IsRecheck(e.Comment, rule)) return [new TriggerDecision.Ignore("comment is not a recheck")];
                if (NotACommand(e, slipwayAccounts ?? []) is { } notCommand) return [new TriggerDecision.Ignore(notCommand)];
                if (ChangeStatus(e.Raw) is { } status && status != "NEW") return [new TriggerDecision.Ignore($"the change is {status.ToLowerInvariant()}")];
                if (Skip(e, rule, checkKind: false) is { } why) return [new TriggerDecision.Ignore(why)];
                // Every recheck comment is a new trigger, so its own event id makes the run id.
                return [new TriggerDecision.Start(DeterministicId.From("run", "recheck", gerritEventId),
                    ChangeTrigger(e, TriggerKind.Recheck, psRef, rev, gerritEventId, e.Author))];
            }
            case "change-merged" when rule.Merges && e.Branch is { } target && (e.NewRev ?? e.Revision) is { } tip:
                return [BranchRun(e, TriggerKind.Merge, "refs/heads/" + target, tip, gerritEventId, e.Submitter)];
            case "ref-updated" when rule.RefUpdates && e.RefUpdate is { } update && update.RefName.StartsWith("refs/heads/", StringComparison.Ordinal):
            {
                if (update.NewRev.All(c => c == '0')) return [new TriggerDecision.Ignore("branch deleted")];
                var name = update.RefName["refs/heads/".Length..];
                if (!BranchMatches(rule, name)) return [new TriggerDecision.Ignore($"branch {name} is not configured")];
                return [BranchRun(e, TriggerKind.RefUpdate, update.RefName, update.NewRev, gerritEventId, e.Submitter)];
            }
            case "ref-updated" when e.RefUpdate is { } tag && tag.RefName.StartsWith("refs/tags/", StringComparison.Ordinal):
            {
                if (!rule.Tags) return [new TriggerDecision.Ignore("tags do not start runs for this project")];
                if (tag.NewRev.All(c => c == '0')) return [new TriggerDecision.Ignore("tag deleted")];
                return [TagRun(e, tag.RefName, tag.NewRev, gerritEventId)];
            }
            default:
                return [new TriggerDecision.Ignore($"{e.Type} does not start runs")];
        }
    }

    /// <summary>
    /// True when a line a human wrote (<see cref="GerritComments.HumanText"/>: no header, no quoted or pre-formatted
    /// output) matches the recheck pattern.
    /// </summary>
    public static bool IsRecheck(string? comment, TriggerRule rule)
    {
        var text = GerritComments.HumanText(comment);
        if (string.IsNullOrWhiteSpace(text)) return false;
        return Regex.IsMatch(text, rule.RecheckPattern, RegexOptions.Multiline | RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Why a comment is not a human's command, or null: Slipway wrote it itself, or its tag says a machine did.</summary>
    public static string? NotACommand(GerritEvent e, IReadOnlyCollection<string> slipwayAccounts)
    {
        if (GerritComments.IsAccount(e.Author, slipwayAccounts)) return "the comment is Slipway's own";
        if (GerritComments.IsAutogenerated(e.Tag)) return $"the comment is tagged {e.Tag}";
        return null;
    }

    // A merge and the ref update it causes name the same branch tip, so they share one run id: one run per commit.
    private static TriggerDecision BranchRun(GerritEvent e, TriggerKind kind, string refName, string tip, string eventId, Account? by) =>
        new TriggerDecision.Start(DeterministicId.From("run", "branch", e.Project!, refName, tip), new RunTrigger
        {
            Kind = kind, Project = e.Project!, Branch = refName["refs/heads/".Length..], Ref = refName, Revision = tip,
            Change = kind == TriggerKind.Merge ? e.ChangeNumber : null, ChangeId = kind == TriggerKind.Merge ? e.ChangeId : null,
            Patchset = kind == TriggerKind.Merge ? e.PatchSetNumber : null, GerritEventId = eventId, RequestedBy = by,
        });

    // A tag's run is its own (a tag and a branch at one commit are two runs, as Zuul's publish and postmerge pipelines were).
    // The new id may be an annotated tag's object: the builder peels it to the commit before the run starts.
    private static TriggerDecision TagRun(GerritEvent e, string refName, string newRev, string eventId)
    {
        var id = newRev.ToLowerInvariant();
        return new TriggerDecision.Start(DeterministicId.From("run", "tag", e.Project!, refName, id), new RunTrigger
        {
            Kind = TriggerKind.RefUpdate, Project = e.Project!, Branch = null, Ref = refName, Revision = id, GerritEventId = eventId,
            RequestedBy = e.Submitter,
        });
    }

    private static RunTrigger ChangeTrigger(GerritEvent e, TriggerKind kind, string psRef, string rev, string eventId, Account? by) => new()
    {
        Kind = kind, Project = e.Project!, Branch = e.Branch, Change = e.ChangeNumber, ChangeId = e.ChangeId, Patchset = e.PatchSetNumber,
        Ref = psRef, Revision = rev, GerritEventId = eventId, RequestedBy = by,
    };

    private static string? Skip(GerritEvent e, TriggerRule rule, bool checkKind)
    {
        if (checkKind && !rule.Patchsets) return "patch sets do not start runs for this project";
        if (!rule.WorkInProgress && RawBool(e.Raw, "change", "wip")) return "work-in-progress change";
        if (!rule.Private && RawBool(e.Raw, "change", "private")) return "private change";
        if (!checkKind) return null;
        var kind = RawString(e.Raw, "patchSet", "kind");
        if (rule.SkipTrivialRebase && kind == "TRIVIAL_REBASE") return "trivial rebase";
        if (rule.SkipNoCodeChange && kind is "NO_CODE_CHANGE" or "NO_CHANGE") return "no code change";
        return null;
    }

    private static bool BranchMatches(TriggerRule rule, string branch) =>
        rule.Branches.Any(p => Regex.IsMatch(branch, "^" + Regex.Escape(p).Replace(@"\*", ".*") + "$", RegexOptions.None, TimeSpan.FromMilliseconds(100)));

    private static string? ChangeStatus(JsonElement raw) => RawString(raw, "change", "status");

    private static bool RawBool(JsonElement raw, string obj, string prop) =>
        raw.ValueKind == JsonValueKind.Object && raw.TryGetProperty(obj, out var o) && o.ValueKind == JsonValueKind.Object
        && o.TryGetProperty(prop, out var v) && v.ValueKind == JsonValueKind.True;

    private static string? RawString(JsonElement raw, string obj, string prop) =>
        raw.ValueKind == JsonValueKind.Object && raw.TryGetProperty(obj, out var o) && o.ValueKind == JsonValueKind.Object
        && o.TryGetProperty(prop, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
