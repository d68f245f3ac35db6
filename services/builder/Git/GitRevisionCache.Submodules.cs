using System.Text;
using Microsoft.Extensions.Logging;
using Slipway.BuildConfig;
using Slipway.Hosting;

namespace Slipway.Builder.Git;

/// <summary>
/// PipelineLib's <c>fetch.submodules</c>: after a revision's tree is exported, each of its git submodules (a gitlink in
/// the tree, with its URL in the revision's <c>.gitmodules</c>) is fetched by its commit id into a cache of its own and
/// exported into its directory, recursively. Where it may come from is <see cref="SubmoduleSource"/>'s decision; the
/// whole tree, submodules included, stays within <see cref="TreeLimits"/>, and their number and nesting within
/// <see cref="SubmoduleOptions"/>. A refusal names the submodule's path (<see cref="RevisionRefusedException"/>).
/// </summary>
public sealed partial class GitRevisionCache
{
    private sealed record Gitlink(string Path, string Commit);

    private sealed class Budget(RevisionTreeOptions limits, SubmoduleOptions submodules)
    {
        public int Files, Directories, Count;
        public long Bytes;

        /// <summary>What a submodule at <paramref name="path"/> (from the top of the tree) may still hold.</summary>
        public RevisionTreeOptions Remaining(string path) => new()
        {
            MaxFiles = Left(limits.MaxFiles - Files, path, "files", "MaxFiles"),
            MaxDirectories = Left(limits.MaxDirectories - Directories, path, "directories", "MaxDirectories"),
            MaxBytes = limits.MaxBytes - Bytes > 0 ? limits.MaxBytes - Bytes : throw Full(path, "bytes", "MaxBytes"),
            MaxPathDepth = limits.MaxPathDepth - path.Split('/').Length,
            MaxPathLength = limits.MaxPathLength - Encoding.UTF8.GetByteCount(path) - 1,
        };

        public void Add(RevisionExport.Usage used) { Files += used.Files; Directories += used.Directories; Bytes += used.Bytes; }

        public void Take(string path)
        {
            if (++Count > submodules.MaxCount)
                throw new RevisionRefusedException(new UnsafePathException(path, $"the revision has more than {submodules.MaxCount} submodules (Builder:Submodules:MaxCount)"));
        }

        private static int Left(int left, string path, string what, string key) => left > 0 ? left : throw Full(path, what, key);

        private static RevisionRefusedException Full(string path, string what, string key) =>
            new(new UnsafePathException(path, $"with its submodules the revision holds more {what} than Builder:Tree:{key} allows"));
    }

    /// <summary>
    /// Fills the submodules of <paramref name="revision"/> of <paramref name="project"/> (already checked out into
    /// <paramref name="destinationDir"/> by <see cref="CheckoutAsync"/>).
    /// </summary>
    /// <param name="serverBase">The builder's git server without credentials: its projects are fetched anonymously.</param>
    public async Task CheckoutSubmodulesAsync(string project, string revision, string destinationDir, string serverBase, SubmoduleOptions options,
        CancellationToken ct)
    {
        var repoDir = Path.Combine(_root, RepositoryDirectoryName(project));
        var budget = new Budget(TreeLimits, options);
        await FillAsync(repoDir, revision, Path.GetFullPath(destinationDir), "", new SubmoduleSource.Place(project, null), serverBase, options, budget, 1, ct);
    }

    private async Task FillAsync(string repoDir, string revision, string root, string prefix, SubmoduleSource.Place at, string serverBase,
        SubmoduleOptions options, Budget budget, int depth, CancellationToken ct)
    {
        var (links, used) = await GitlinksAsync(repoDir, revision, ct);
        if (prefix.Length == 0) budget.Add(used); // the top tree: counted from git's listing, it was exported already
        if (links.Count == 0) return;
        var urls = await SubmoduleUrlsAsync(repoDir, revision, ct);
        foreach (var link in links)
        {
            var shown = prefix + link.Path;
            budget.Take(shown);
            if (depth > options.MaxDepth)
                throw Refused(shown, $"is nested deeper than {options.MaxDepth} submodules (Builder:Submodules:MaxDepth)");
            if (!urls.TryGetValue(link.Path, out var url)) throw Refused(shown, "is a submodule with no URL in .gitmodules");
            SubmoduleSource source;
            try { source = SubmoduleSource.Resolve(url, at, serverBase, options.AllowedUrls); }
            catch (ArgumentException e) { throw Refused(shown, $"is a submodule that is not fetched: {e.Message}"); }

            // The directory git archive made for the gitlink, checked to be a plain directory inside the tree (never through a link).
            var dir = Path.GetFullPath(Path.Combine(root, link.Path));
            if (!dir.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || ThroughLink(root, link.Path))
                throw Refused(shown, "is a submodule whose directory is not a plain directory of the tree");
            if (Directory.EnumerateFileSystemEntries(dir).Any()) throw Refused(shown, "is a submodule whose directory is not empty");

            var subRepo = Path.Combine(_root, RepositoryDirectoryName(source.CacheName));
            var gate = GateOf(subRepo);
            await gate.WaitAsync(ct);
            try
            {
                var created = await EnsureRepositoryAsync(subRepo, ct);
                if (created || !await HasCommitAsync(subRepo, link.Commit, ct))
                    await FetchSubmoduleAsync(subRepo, source, shown, link.Commit, ct);
                budget.Add(await ExportAsync(subRepo, link.Commit, dir, ct, budget.Remaining(shown)));
            }
            finally { gate.Release(); }
            logger.LogInformation("Submodule {Path} at {Commit} from {Url} checked out", shown, link.Commit, UrlCredentials.Redact(source.FetchUrl));
            await FillAsync(subRepo, link.Commit, dir, shown + "/", source.Location, serverBase, options, budget, depth + 1, ct);
        }
    }

    // Redirects are not followed: an allowed URL must not hand the fetch on to another host.
    /// <summary>
    /// The submodule's commit by its id (what git submodule update asks for); a server that refuses wants of ids gets a fetch
    /// of its branches, which must then hold the commit.
    /// </summary>
    private async Task FetchSubmoduleAsync(string repoDir, SubmoduleSource source, string shown, string commit, CancellationToken ct)
    {
        ValidateUrl(source.FetchUrl);
        Interlocked.Increment(ref _fetchCount);
        var localRef = $"refs/slipway/submodule/{commit}";
        try
        {
            await GitCommand.RunAsync(["-c", "http.followRedirects=false", "--git-dir", repoDir, "fetch", "--quiet", "--no-tags",
                "--no-auto-maintenance", "--", source.FetchUrl, $"+{commit}:{localRef}"], FetchTimeout, ct);
            return;
        }
        catch (GitCheckoutException e)
        {
            logger.LogInformation("Fetching submodule {Path} at {Commit} by id failed ({Reason}); fetching its branches", shown, commit, e.Message);
        }
        await GitCommand.RunAsync(["-c", "http.followRedirects=false", "--git-dir", repoDir, "fetch", "--quiet", "--no-tags",
            "--no-auto-maintenance", "--", source.FetchUrl, "+refs/heads/*:refs/slipway/submodule-heads/*"], FetchTimeout, ct);
        if (!await HasCommitAsync(repoDir, commit, ct))
            throw new GitCheckoutException($"submodule {shown}: commit {commit} is not on any branch of {UrlCredentials.Redact(source.FetchUrl)}");
    }

    /// <summary>The gitlinks of the tree (mode 160000), and what the rest of the tree holds (files, directories, bytes).</summary>
    private async Task<(List<Gitlink> Links, RevisionExport.Usage Used)> GitlinksAsync(string repoDir, string revision, CancellationToken ct)
    {
        var links = new List<Gitlink>();
        var directories = new HashSet<string>(StringComparer.Ordinal);
        var files = 0;
        long bytes = 0;
        var listing = await GitCommand.RunAsync(["--git-dir", repoDir, "ls-tree", "-r", "-l", "-z", "--full-tree", revision + "^{commit}"], LocalTimeout, ct);
        foreach (var entry in listing.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            // "<mode> SP <type> SP <object> SP+ <size> TAB <path>"
            var tab = entry.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0) continue;
            var fields = entry[..tab].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var path = entry[(tab + 1)..];
            for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1)) directories.Add(path[..slash]);
            if (fields[0] == "160000") { links.Add(new Gitlink(path, fields[2].ToLowerInvariant())); continue; }
            files++;
            if (long.TryParse(fields[3], out var size)) bytes += size;
        }
        return (links, new RevisionExport.Usage(files, directories.Count, bytes));
    }

    /// <summary>
    /// path → url of the revision's <c>.gitmodules</c>, read by git's own config parser from the blob (no includes are
    /// followed for a blob). A submodule without a path or URL is left out; its gitlink is then refused.
    /// </summary>
    private async Task<Dictionary<string, string>> SubmoduleUrlsAsync(string repoDir, string revision, CancellationToken ct)
    {
        string result;
        try
        {
            result = await GitCommand.RunAsync(["--git-dir", repoDir, "config", "--blob", $"{revision}:.gitmodules", "-z", "--get-regexp",
                @"^submodule\..*\.(path|url)$"], LocalTimeout, ct);
        }
        catch (GitCheckoutException) { return []; } // no .gitmodules, or none of its entries match: every gitlink is then refused
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in result.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var newline = item.IndexOf('\n', StringComparison.Ordinal);
            if (newline < 0) continue;
            var key = item[..newline];
            var value = item[(newline + 1)..];
            var name = key["submodule.".Length..key.LastIndexOf('.')];
            (key.EndsWith(".path", StringComparison.Ordinal) ? paths : urls)[name] = value;
        }
        return paths.Where(p => urls.ContainsKey(p.Key)).GroupBy(p => p.Value.Trim('/'), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => urls[g.First().Key], StringComparer.Ordinal);
    }

    private static bool ThroughLink(string root, string relative)
    {
        var current = root;
        foreach (var part in relative.Split('/'))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (!info.Exists || info.LinkTarget is not null) return true;
        }
        return false;
    }

    private static RevisionRefusedException Refused(string path, string reason) => new(new UnsafePathException(path, reason));
}
