using System.Text.Json.Nodes;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Gerrit.Rest;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// Rebuilds the <c>ref-updated</c> of branches and tags that moved while the gateway was not listening (a direct push or
/// a new tag has no change, so the change query cannot see it). Tags are caught up as branches are, with List Tags, each
/// kind listed and recorded on its own (<c>tag_listings</c> beside <c>branch_listings</c>), so a project whose branches
/// were listed before tags were caught up does not take its old tags for new ones. Gerrit's REST API has no readable
/// history of ref moves, but List Branches gives each branch's tip now: a tip other than the last one the gateway saw (<c>branch_tips</c>) becomes
/// one <c>ref-updated</c> from the seen tip to the new one. When the gateway saw the push live, that is exactly the
/// live event (same project, ref, oldRev, newRev: the same id), so it is dropped as a duplicate. Several pushes in
/// one gap become one event to the newest tip. Once a catch-up has listed a project completely (<c>branch_listings</c>),
/// <c>branch_tips</c> knows each of its branches (the live <c>ref-updated</c> keep it current), so a branch missing from
/// it was created since: its <c>ref-updated</c> from the all-zero SHA is the live creation's (same id). Branches of a
/// project never listed are only recorded: they may be years old.
/// </summary>
public sealed class BranchTipCatchUp(GerritRestClient rest, GerritEventWriter writer, GatewayOptions options, ILogger logger)
{
    private const int PageSize = 100;
    private const string ZeroSha = "0000000000000000000000000000000000000000";

    /// <summary>
    /// The <c>ref-updated</c> events of the watched projects' branches (those with a tip seen before, and
    /// <paramref name="moreProjects"/>, e.g. the ones the change query found), oldest project first. Bounded by
    /// <c>Gateway:CatchUpMaxProjects</c> and <c>Gateway:CatchUpMaxBranchesPerProject</c>; what is left out is logged.
    /// </summary>
    public async Task<List<GerritEvent>> FindAsync(string server, IEnumerable<string> moreProjects, CancellationToken ct)
    {
        // Branches and tags, each bounded by CatchUpMaxBranchesPerProject.
        var maxRows = (int)Math.Min(int.MaxValue - 1, 2L * options.CatchUpMaxProjects * options.CatchUpMaxBranchesPerProject);
        var known = await writer.KnownTipsAsync(server, maxRows + 1, ct);
        string? cutProject = null; // its tips may be cut short by the bound: treated as never listed (unknown branches only recorded)
        if (known.Count > maxRows)
        {
            cutProject = known[^1].Project;
            logger.LogError("catch-up: more than {Max} known branch tips; ref-updated of branches after {Project} {Ref} is not recovered",
                maxRows, known[^1].Project, known[^1].RefName);
            known.RemoveAt(known.Count - 1);
        }
        var tipsByProject = known.GroupBy(t => t.Project, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToDictionary(t => t.RefName, t => t.Revision, StringComparer.Ordinal), StringComparer.Ordinal);
        var projects = tipsByProject.Keys.Concat(moreProjects.Where(p => !string.IsNullOrEmpty(p)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (projects.Count > options.CatchUpMaxProjects)
        {
            logger.LogError("catch-up: {Count} projects to check for moved branches, more than Gateway:CatchUpMaxProjects ({Max}); {Skipped} projects not checked, from {First}",
                projects.Count, options.CatchUpMaxProjects, projects.Count - options.CatchUpMaxProjects, projects[options.CatchUpMaxProjects]);
            projects = projects.Take(options.CatchUpMaxProjects).ToList();
        }

        var listed = await writer.ListedProjectsAsync(server, projects, ct);
        var tagsListed = await writer.ListedProjectsAsync(server, projects, ct, tags: true);
        var events = new List<GerritEvent>();
        var now = DateTimeOffset.UtcNow;
        foreach (var project in projects)
        {
            var seen = tipsByProject.GetValueOrDefault(project) ?? new Dictionary<string, string>(StringComparer.Ordinal);
            await FindMovedAsync(server, project, Branches, seen, listed.Contains(project) && project != cutProject, project != cutProject, events, now, ct);
            await FindMovedAsync(server, project, Tags, seen, tagsListed.Contains(project) && project != cutProject, project != cutProject, events, now, ct);
        }
        logger.LogInformation("catch-up: {Projects} projects checked for moved branches and tags, {Moved} moved", projects.Count, events.Count);
        return events;
    }

    /// <summary>One kind of ref: branches (<c>refs/heads/</c>) or tags (<c>refs/tags/</c>), each listed and recorded on its own.</summary>
    private sealed record RefKind(string Prefix, string Noun, string Plural, bool IsTags);

    private static readonly RefKind Branches = new("refs/heads/", "branch", "branches", IsTags: false);
    private static readonly RefKind Tags = new("refs/tags/", "tag", "tags", IsTags: true);

    /// <summary>
    /// The <c>ref-updated</c> of the project's refs of <paramref name="kind"/> that moved, were created (when the project's
    /// refs of that kind were listed completely before) or were deleted since they were seen.
    /// </summary>
    private async Task FindMovedAsync(string server, string project, RefKind kind, Dictionary<string, string> allSeen, bool wasListed, bool mayList,
        List<GerritEvent> events, DateTimeOffset now, CancellationToken ct)
    {
        if (await ListAsync(project, kind, ct) is not { } refs) return;
        var seen = allSeen.Where(t => t.Key.StartsWith(kind.Prefix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
        var firstSeen = new List<(string RefName, string Revision)>();
        foreach (var (refName, tip) in refs.Tips)
        {
            if (!seen.TryGetValue(refName, out var old))
            {
                if (wasListed)
                {
                    // Not there at the last listing, nor created live since: created while the gateway did not listen.
                    events.Add(RefUpdated(project, refName, ZeroSha, tip, now));
                    logger.LogInformation("catch-up: {Kind} {Ref} of {Project} created since the last listing, at {Tip}", kind.Noun, refName, project, tip);
                    continue;
                }
                // No oldRev known: the ref-updated that made this tip cannot get its live id. Recorded for next time.
                firstSeen.Add((refName, tip));
                logger.LogInformation("catch-up: {Kind} {Ref} of {Project} first seen at {Tip}; recorded", kind.Noun, refName, project, tip);
                continue;
            }
            if (old != tip) events.Add(RefUpdated(project, refName, old, tip, now));
        }
        // Only a complete listing makes the project listed: then every ref of the kind is known, in one transaction.
        if (!wasListed) await writer.RecordListingAsync(server, project, firstSeen, refs.Complete && mayList, ct, kind.IsTags);
        if (!refs.Complete) return; // a ref missing from a cut-short list may just be beyond it
        foreach (var (refName, old) in seen)
            if (!refs.Tips.ContainsKey(refName)) events.Add(RefUpdated(project, refName, old, ZeroSha, now));
    }

    /// <summary>The project's refs of <paramref name="kind"/> with what they hold; null when they cannot be read (logged, the rest go on).</summary>
    private async Task<(Dictionary<string, string> Tips, bool Complete)?> ListAsync(string project, RefKind kind, CancellationToken ct)
    {
        var tips = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var start = 0; ; start += PageSize)
        {
            List<(string Ref, string Revision)> page;
            try
            {
                page = kind.IsTags
                    ? (await rest.ListTagsAsync(project, PageSize, start, ct)).Select(t => (t.Ref, t.Revision)).ToList()
                    : (await rest.ListBranchesAsync(project, PageSize, start, ct)).Select(b => (b.Ref, b.Revision)).ToList();
            }
            catch (GerritRestException e) when (!e.Transient)
            {
                logger.LogWarning("catch-up: {Kinds} of {Project} not readable ({Error}); their updates are not recovered", kind.Plural, project, e.Message);
                return null;
            }
            foreach (var (refName, revision) in page)
                if (refName.StartsWith(kind.Prefix, StringComparison.Ordinal) && IsSha(revision)) tips[refName] = revision;
            if (page.Count < PageSize) return (tips, true);
            if (start + PageSize >= options.CatchUpMaxBranchesPerProject)
            {
                logger.LogError("catch-up: {Project} has more than {Max} {Kinds} (Gateway:CatchUpMaxBranchesPerProject); updates of the rest are not recovered",
                    project, options.CatchUpMaxBranchesPerProject, kind.Plural);
                return (tips, false);
            }
        }
    }

    private static bool IsSha(string s) => s.Length == 40 && s.All(char.IsAsciiHexDigitLower);

    /// <summary>The event in stream-events shape (no submitter: the REST API does not say who pushed).</summary>
    private static GerritEvent RefUpdated(string project, string refName, string oldRev, string newRev, DateTimeOffset now)
    {
        var raw = new JsonObject
        {
            ["type"] = "ref-updated",
            ["refUpdate"] = new JsonObject { ["oldRev"] = oldRev, ["newRev"] = newRev, ["refName"] = refName, ["project"] = project },
            ["eventCreatedOn"] = now.ToUnixTimeSeconds(),
        };
        return GerritEventParser.Parse(raw.ToJsonString(), GerritEventSource.RestCatchup, now, caughtUp: true);
    }
}
