using System.Text.Json;
using Slipway.Builder.Triggers;
using Slipway.Contracts;

namespace Slipway.Tests.Integration.Builder;

/// <summary>Trigger rules (pure): which Gerrit events start runs, with which ids, and which cancel runs.</summary>
public sealed class TriggerRulesTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private const string Sha2 = "89abcdef0123456789abcdef0123456789abcdef";

    private static GerritEvent Event(string type, int ps = 1, string? comment = null, string raw = "{}", string branch = "master") => new()
    {
        Type = type, Project = "demo/svc", Branch = branch, ChangeNumber = 42, ChangeId = "I" + new string('a', 40), PatchSetNumber = ps,
        Revision = Sha, Ref = $"refs/changes/42/42/{ps}", Comment = comment, EventCreatedOn = DateTimeOffset.UnixEpoch,
        Source = GerritEventSource.Stream, Raw = JsonDocument.Parse(raw).RootElement, Author = new Account { Username = "dev" },
        Uploader = new Account { Username = "uploader" },
    };

    [Fact]
    public void A_new_patch_set_starts_a_run_whose_id_depends_only_on_the_patch_set()
    {
        var a = Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("patchset-created"), "event-1", new TriggerRule())));
        var b = Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("patchset-created"), "event-2", new TriggerRule())));
        Assert.Equal(a.RunId, b.RunId); // the same patch set seen twice (live, then by a catch-up) is one run
        Assert.Equal(TriggerKind.Patchset, a.Trigger.Kind);
        Assert.Equal("refs/changes/42/42/1", a.Trigger.Ref);
        Assert.Equal(Sha, a.Trigger.Revision);
        Assert.Equal("uploader", a.Trigger.RequestedBy?.Username);
    }

    [Fact]
    public void A_later_patch_set_cancels_the_older_runs_of_the_change_and_starts_its_own()
    {
        var decisions = TriggerRules.Decide(Event("patchset-created", ps: 3), "e", new TriggerRule());
        var cancel = Assert.IsType<TriggerDecision.CancelChange>(decisions[0]);
        Assert.Equal((42, 3, "superseded by patch set 3"), (cancel.Change, cancel.BelowPatchset!.Value, cancel.Reason));
        Assert.IsType<TriggerDecision.Start>(decisions[1]);
    }

    [Theory]
    [InlineData("Patch Set 1:\n\nrecheck", true)]
    [InlineData("Patch Set 1: Code-Review+1\n\n  RECHECK  ", true)]
    [InlineData("Patch Set 1:\n\nplease recheck this", false)]
    [InlineData("Patch Set 1:\n\nlooks good", false)]
    public void Only_a_recheck_comment_starts_a_new_run_each_time(string comment, bool starts)
    {
        var first = TriggerRules.Decide(Event("comment-added", comment: comment), "comment-1", new TriggerRule());
        if (!starts) { Assert.IsType<TriggerDecision.Ignore>(Assert.Single(first)); return; }
        var a = Assert.IsType<TriggerDecision.Start>(Assert.Single(first));
        var b = Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("comment-added", comment: comment), "comment-2", new TriggerRule())));
        Assert.Equal(TriggerKind.Recheck, a.Trigger.Kind);
        Assert.NotEqual(a.RunId, b.RunId);
    }

    [Fact]
    public void The_recheck_pattern_is_configurable()
    {
        var rule = new TriggerRule { RecheckPattern = @"^\s*(recheck|test again)\s*$" };
        Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("comment-added", comment: "Patch Set 1:\n\ntest again"), "c", rule)));
    }

    [Theory]
    [InlineData("""{"patchSet":{"kind":"TRIVIAL_REBASE"}}""", "trivial rebase")]
    [InlineData("""{"patchSet":{"kind":"NO_CODE_CHANGE"}}""", "no code change")]
    [InlineData("""{"change":{"wip":true}}""", "work-in-progress change")]
    [InlineData("""{"change":{"private":true}}""", "private change")]
    public void Trivial_rebases_no_code_changes_wip_and_private_changes_are_skipped_by_default(string raw, string why)
    {
        var ignore = Assert.IsType<TriggerDecision.Ignore>(Assert.Single(TriggerRules.Decide(Event("patchset-created", raw: raw), "e", new TriggerRule())));
        Assert.Equal(why, ignore.Why);
        var permissive = new TriggerRule { SkipTrivialRebase = false, SkipNoCodeChange = false, WorkInProgress = true, Private = true };
        Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("patchset-created", raw: raw), "e", permissive)));
    }

    [Fact]
    public void A_merge_and_the_branch_update_it_causes_are_one_run()
    {
        var merged = Event("change-merged") with { NewRev = Sha2, Submitter = new Account { Username = "reviewer" } };
        var updated = Event("ref-updated") with
        {
            ChangeNumber = null, PatchSetNumber = null, Ref = "refs/heads/master",
            RefUpdate = new GerritRefUpdate { RefName = "refs/heads/master", OldRev = Sha, NewRev = Sha2 },
        };
        var a = Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(merged, "m", new TriggerRule())));
        var b = Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(updated, "u", new TriggerRule())));
        Assert.Equal(a.RunId, b.RunId);
        Assert.Equal((TriggerKind.Merge, "refs/heads/master", Sha2), (a.Trigger.Kind, a.Trigger.Ref, a.Trigger.Revision));
        Assert.Equal(TriggerKind.RefUpdate, b.Trigger.Kind);
    }

    [Fact]
    public void Branches_not_configured_and_deleted_branches_and_change_refs_start_nothing()
    {
        var rule = new TriggerRule { Branches = ["main", "release/*"] };
        Assert.IsType<TriggerDecision.Ignore>(Assert.Single(TriggerRules.Decide(Event("patchset-created", branch: "feature"), "e", rule)));
        Assert.IsType<TriggerDecision.Start>(Assert.Single(TriggerRules.Decide(Event("patchset-created", branch: "release/1.0"), "e", rule)));
        var deleted = Event("ref-updated") with
        {
            ChangeNumber = null, RefUpdate = new GerritRefUpdate { RefName = "refs/heads/master", OldRev = Sha, NewRev = new string('0', 40) },
        };
        Assert.IsType<TriggerDecision.Ignore>(Assert.Single(TriggerRules.Decide(deleted, "e", new TriggerRule())));
        var meta = Event("ref-updated") with
        {
            ChangeNumber = null, RefUpdate = new GerritRefUpdate { RefName = "refs/changes/42/42/meta", OldRev = Sha, NewRev = Sha2 },
        };
        Assert.IsType<TriggerDecision.Ignore>(Assert.Single(TriggerRules.Decide(meta, "e", new TriggerRule())));
    }

    [Fact]
    public void An_abandoned_change_cancels_its_runs()
    {
        var cancel = Assert.IsType<TriggerDecision.CancelChange>(Assert.Single(TriggerRules.Decide(Event("change-abandoned"), "e", new TriggerRule())));
        Assert.Null(cancel.BelowPatchset);
        Assert.Equal("the change was abandoned", cancel.Reason);
    }

    [Fact]
    public void An_invalid_recheck_pattern_is_a_configuration_error_naming_the_key()
    {
        var options = new TriggerOptions { Projects = { ["demo/svc"] = new TriggerRule { RecheckPattern = "(" } } };
        Assert.StartsWith("Builder:Triggers:Projects:demo/svc:RecheckPattern is not a valid regular expression", Assert.Single(options.Validate()));
    }
}
