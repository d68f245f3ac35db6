namespace Slipway.Deployer.Config;

/// <summary>
/// Where a rollback goes, read from a values file's history (oldest first): the last version deployed before the current
/// one that was never itself rolled back. Deploy commits put a version in place; rollback commits (those with a
/// <c>Slipway-Reverts</c> trailer: manual rollbacks, and the automatic revert of a failed rollout) mark the version they
/// replace as rolled back and restore an earlier deploy. So rolling back twice walks back twice (A, B, C → B → A), where
/// reverting the last commit twice would put C back.
/// </summary>
public static class RollbackTarget
{
    /// <param name="Target">The deploy commit whose values the rollback restores.</param>
    /// <param name="Replaces">The deploy commit of the version running now (the one rolled back).</param>
    /// <param name="CurrentImage">The image the file names now.</param>
    public sealed record Choice(ConfigCommit Target, ConfigCommit? Replaces, string CurrentImage);

    /// <summary>The choice, or null when there is no earlier good version (or no current one).</summary>
    public static Choice? Choose(IReadOnlyList<ConfigCommit> oldestFirst)
    {
        var deploys = new List<ConfigCommit>();
        var rolledBack = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var currentDeploy = -1; // index in deploys of the deploy commit running now
        foreach (var commit in oldestFirst)
        {
            if (commit.Reverts is null)
            {
                current = commit.Image;
                if (commit.Image is null) { currentDeploy = -1; continue; }
                deploys.Add(commit);
                currentDeploy = deploys.Count - 1;
                continue;
            }
            if (currentDeploy >= 0) rolledBack.Add(deploys[currentDeploy].Sha);
            current = commit.Image;
            // The deploy the rollback put back: the one it names, else the latest good one of the restored image before.
            var restores = commit.Trailers.GetValueOrDefault(ConfigTrailers.Restores);
            currentDeploy = current is null ? -1 : deploys.FindLastIndex(currentDeploy < 0 ? deploys.Count - 1 : currentDeploy, d =>
                restores is not null ? d.Sha == restores : d.Image == current && !rolledBack.Contains(d.Sha));
        }
        if (current is null) return null;
        var before = currentDeploy >= 0 ? currentDeploy : deploys.Count;
        for (var i = before - 1; i >= 0; i--)
            if (!rolledBack.Contains(deploys[i].Sha) && deploys[i].Image != current)
                return new Choice(deploys[i], currentDeploy >= 0 ? deploys[currentDeploy] : null, current);
        return null;
    }
}
