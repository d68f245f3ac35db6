using System.Text;
using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Git;

/// <summary>
/// The <c>.git</c> directory PipelineLib's builds had: Jenkins checked the revision out as a shallow clone (PipelineLib's
/// <c>fetch</c> defaults: depth 20, no tags; a pipeline's <c>fetch.depth</c>, <c>shallow: false</c> or <c>tags: true</c>
/// changes that) and built with the checkout as the context, so <c>copies: [local]</c>,
/// a builder's requirements and every command in the build could use git (<c>git describe</c>, setuptools-scm, a
/// <c>git diff --exit-code</c> check). Made from the project's cache: the revision detached at HEAD, its
/// last 20 commits, an index of its tree, <c>origin</c> pointing at the project without credentials. Byte for byte the
/// same for the same revision and tags (no hooks, reflogs, FETCH_HEAD or stat data; one packing thread), so the build
/// inputs of two runs of one revision still match and a build is reused.
/// </summary>
public sealed partial class GitRevisionCache
{
    /// <summary>PipelineLib's default fetch depth.</summary>
    public const int CheckoutDepth = 20;

    /// <summary>Writes <c><paramref name="destinationDir"/>/.git</c> for <paramref name="revision"/> (already exported there by <see cref="CheckoutAsync"/>).</summary>
    /// <param name="originUrl">The project's URL as the checkout's <c>origin</c>; must hold no credentials.</param>
    /// <param name="depth">Commits to hold (the pipeline's <c>fetch.depth</c>); 0 for the whole history the cache has.</param>
    /// <param name="tagsFrom">
    /// PipelineLib's <c>fetch.tags</c>: the project's URL (with the builder's credentials) to fetch its tags from into the
    /// cache first; the <c>.git</c> then holds every tag, each with <paramref name="depth"/> commits, as Jenkins'
    /// <c>git fetch --tags --depth=N</c> did. Null: no tags, and no network.
    /// </param>
    public async Task WriteGitDirectoryAsync(string project, string revision, string destinationDir, string originUrl, CancellationToken ct,
        int depth = CheckoutDepth, string? tagsFrom = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ValidateUrl(originUrl);
        revision = revision.ToLowerInvariant();
        var repoDir = Path.Combine(_root, RepositoryDirectoryName(project));
        if (tagsFrom is not null) await FetchTagsAsync(repoDir, tagsFrom, project, ct);
        var work = Path.GetFullPath(destinationDir);
        var gitDir = Path.Combine(work, ".git");
        if (Directory.Exists(gitDir)) Directory.Delete(gitDir, recursive: true); // a crashed attempt's
        string[] quiet = ["-c", "core.logAllRefUpdates=false", "--git-dir", gitDir, "--work-tree", work];
        await GitCommand.RunAsync(["init", "--quiet", "--template=", work], LocalTimeout, ct);
        string[] shallow = depth > 0 ? [$"--depth={depth}"] : [];
        string[] tags = tagsFrom is not null ? ["+refs/tags/*:refs/tags/*"] : [];
        await GitCommand.RunAsync([.. quiet, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", .. shallow,
            "--upload-pack=git -c pack.threads=1 upload-pack", "file://" + repoDir, revision, .. tags], LocalTimeout, ct);
        // HEAD and origin written as git writes them (a detached HEAD is the id on one line): two git processes fewer.
        await File.WriteAllTextAsync(Path.Combine(gitDir, "HEAD"), revision + "\n", ct);
        await File.AppendAllTextAsync(Path.Combine(gitDir, "config"),
            $"[remote \"origin\"]\n\turl = {ConfigValue(originUrl)}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n", ct);
        await GitCommand.RunAsync([.. quiet, "read-tree", revision], LocalTimeout, ct);
    }

    /// <summary>
    /// The server's tags into the project's cache (<c>refs/tags/*</c>, pruned: a tag deleted on the server is gone here
    /// too), under the project's gate so no fetch or maintenance of the cache runs beside it.
    /// </summary>
    private async Task FetchTagsAsync(string repoDir, string url, string project, CancellationToken ct)
    {
        ValidateUrl(url);
        var gate = GateOf(repoDir);
        await gate.WaitAsync(ct);
        try
        {
            var started = DateTime.UtcNow;
            Interlocked.Increment(ref _fetchCount);
            await GitCommand.RunAsync(["--git-dir", repoDir, "fetch", "--quiet", "--prune", "--no-write-fetch-head", "--no-auto-maintenance",
                url, "+refs/tags/*:refs/tags/*"], FetchTimeout, ct);
            logger.LogInformation("Fetched the tags of {Project} in {Ms} ms", project, (long)(DateTime.UtcNow - started).TotalMilliseconds);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A git config value in quotes (a URL may hold <c>;</c> or <c>#</c>, which start a comment unquoted).</summary>
    private static string ConfigValue(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in value) quoted.Append(c is '"' or '\\' ? "\\" + c : c.ToString());
        return quoted.Append('"').ToString();
    }
}
