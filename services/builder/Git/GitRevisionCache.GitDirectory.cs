namespace Slipway.Builder.Git;

/// <summary>
/// The <c>.git</c> directory PipelineLib's builds had: Jenkins checked the revision out as a shallow clone (PipelineLib's
/// <c>fetch</c> defaults: depth 20, no tags; a pipeline's <c>fetch.depth</c> or <c>shallow: false</c> changes the depth) and built with the checkout as the context, so <c>copies: [local]</c>,
/// a builder's requirements and every command in the build could use git (<c>git describe</c>, setuptools-scm, a
/// <c>git diff --exit-code</c> check). Made from the project's cache, with no network: the revision detached at HEAD, its
/// last 20 commits, an index of its tree, <c>origin</c> pointing at the project without credentials. Byte for byte the
/// same for the same revision (no hooks, reflogs, FETCH_HEAD or stat data; one packing thread), so the build inputs of
/// two runs of one revision still match and a build is reused.
/// </summary>
public sealed partial class GitRevisionCache
{
    /// <summary>PipelineLib's default fetch depth.</summary>
    public const int CheckoutDepth = 20;

    /// <summary>Writes <c><paramref name="destinationDir"/>/.git</c> for <paramref name="revision"/> (already exported there by <see cref="CheckoutAsync"/>).</summary>
    /// <param name="originUrl">The project's URL as the checkout's <c>origin</c>; must hold no credentials.</param>
    /// <param name="depth">Commits to hold (the pipeline's <c>fetch.depth</c>); 0 for the whole history the cache has.</param>
    public async Task WriteGitDirectoryAsync(string project, string revision, string destinationDir, string originUrl, CancellationToken ct,
        int depth = CheckoutDepth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ValidateUrl(originUrl);
        revision = revision.ToLowerInvariant();
        var repoDir = Path.Combine(_root, RepositoryDirectoryName(project));
        var work = Path.GetFullPath(destinationDir);
        var gitDir = Path.Combine(work, ".git");
        if (Directory.Exists(gitDir)) Directory.Delete(gitDir, recursive: true); // a crashed attempt's
        string[] quiet = ["-c", "core.logAllRefUpdates=false", "--git-dir", gitDir, "--work-tree", work];
        await GitCommand.RunAsync(["init", "--quiet", "--template=", work], LocalTimeout, ct);
        string[] shallow = depth > 0 ? [$"--depth={depth}"] : [];
        await GitCommand.RunAsync([.. quiet, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", .. shallow,
            "--upload-pack=git -c pack.threads=1 upload-pack", "file://" + repoDir, revision], LocalTimeout, ct);
        await GitCommand.RunAsync([.. quiet, "update-ref", "--no-deref", "HEAD", revision], LocalTimeout, ct);
        await GitCommand.RunAsync([.. quiet, "read-tree", revision], LocalTimeout, ct);
        await GitCommand.RunAsync([.. quiet, "config", "remote.origin.url", originUrl], LocalTimeout, ct);
        await GitCommand.RunAsync([.. quiet, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], LocalTimeout, ct);
    }
}
