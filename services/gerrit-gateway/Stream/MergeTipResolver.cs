using Slipway.Gerrit.Rest;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// Finds the commit a change's submit put on its branch, which the live <c>change-merged</c> carries
/// as <c>newRev</c> (and which its id and the merge run derive from). Gerrit's REST API does not name
/// it on the change, so the branch's history is walked from its tip along first parents: the commit
/// that is the change's current revision (fast-forward, rebase or cherry-pick: Gerrit makes the
/// commit on the branch the change's last patch set) or that merges it in (a merge commit). Read
/// access (Get Branch, Get Commit) is enough.
/// </summary>
public sealed class MergeTipResolver(GerritRestClient rest, int maxCommits, ILogger logger)
{
    private readonly Dictionary<(string Project, string Sha), CommitInfo> _commits = [];

    /// <summary>change number → the commit its submit made, for every merged change found; the rest are left out.</summary>
    public async Task<Dictionary<int, string>> ResolveAsync(IEnumerable<ChangeInfo> merged, CancellationToken ct)
    {
        var tips = new Dictionary<int, string>();
        var branchTips = new Dictionary<(string, string), string?>();
        foreach (var c in merged)
        {
            if (c.Status != "MERGED" || c.CurrentRevision is not { } revision || string.IsNullOrEmpty(c.Project)) continue;
            var key = (c.Project, c.Branch);
            if (!branchTips.TryGetValue(key, out var tip))
            {
                try { tip = (await rest.GetBranchAsync(c.Project, c.Branch, ct)).Revision; }
                catch (GerritRestException e) when (!e.Transient)
                {
                    logger.LogWarning("catch-up: branch {Branch} of {Project} not readable ({Error}); merges on it keep their patch set as newRev", c.Branch, c.Project, e.Message);
                    tip = null;
                }
                branchTips[key] = tip;
            }
            if (tip is null) continue;
            if (await FindAsync(c.Project, tip, revision, ct) is { } made) tips[c.Number] = made;
            else logger.LogWarning("catch-up: the commit that merged change {Change} was not found within {Max} commits of {Branch}; using its patch set as newRev",
                c.Number, maxCommits, c.Branch);
        }
        return tips;
    }

    private async Task<string?> FindAsync(string project, string tip, string revision, CancellationToken ct)
    {
        var sha = tip;
        for (var i = 0; i < maxCommits && sha is not null; i++)
        {
            if (sha == revision) return sha;
            var commit = await CommitAsync(project, sha, ct);
            var parents = commit.Parents ?? [];
            if (parents.Skip(1).Any(p => p.Commit == revision)) return sha;
            sha = parents.Count > 0 ? parents[0].Commit : null;
        }
        return null;
    }

    private async Task<CommitInfo> CommitAsync(string project, string sha, CancellationToken ct)
    {
        if (_commits.TryGetValue((project, sha), out var known)) return known;
        var commit = await rest.GetCommitAsync(project, sha, ct);
        _commits[(project, sha)] = commit;
        return commit;
    }
}
