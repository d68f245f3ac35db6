using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Git;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// The revision cache against a real bare repository (the shape Gerrit serves: branches and
/// <c>refs/changes/NN/N/P</c>), with the real git CLI.
/// </summary>
public sealed class GitRevisionCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "slipway-git-test-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly string _origin;
    private readonly string _work;
    private readonly GitRevisionCache _cache;

    public GitRevisionCacheTests()
    {
        _origin = Path.Combine(_root, "origin.git");
        _work = Path.Combine(_root, "work");
        Directory.CreateDirectory(_root);
        Git(_root, "init", "--quiet", "--bare", _origin);
        Git(_root, "init", "--quiet", "-b", "main", _work);
        _cache = new GitRevisionCache(Path.Combine(_root, "cache"), NullLogger<GitRevisionCache>.Instance);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Commit(string message, IReadOnlyDictionary<string, string> files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(_work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        Git(_work, "add", "-A");
        Git(_work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty", "-m", message);
        return Git(_work, "rev-parse", "HEAD").Trim();
    }

    private void Push(string revision, string remoteRef, bool force = false) =>
        Git(_work, [.. new[] { "push", "--quiet" }, .. (force ? new[] { "--force" } : []), _origin, $"{revision}:{remoteRef}"]);

    [Fact]
    public async Task The_checkout_gets_pipelinelibs_shallow_git_directory_the_same_bytes_every_time()
    {
        string last = "";
        for (var i = 1; i <= 25; i++) last = Commit($"c{i}", new Dictionary<string, string> { ["a.txt"] = $"v{i}", ["bin/run"] = "#!/bin/sh\n" });
        Push(last, "refs/heads/main");
        var cache = _cache;
        var first = Dest();
        var second = Dest();
        foreach (var dest in new[] { first, second })
        {
            await cache.CheckoutAsync(_origin, "team/app", "refs/heads/main", last, dest, CancellationToken.None);
            await cache.WriteGitDirectoryAsync("team/app", last, dest, "https://gerrit.example.org/r/team/app", CancellationToken.None);
        }

        // Byte for byte the same for the same revision, so two runs' build inputs match (compared before git below refreshes an index).
        Assert.Equal(Tree(Path.Combine(first, ".git")), Tree(Path.Combine(second, ".git")));

        // What a build's commands see: the revision detached at HEAD, PipelineLib's 20 commits, a clean status, origin without credentials.
        Assert.Equal(last, Git(first, "rev-parse", "HEAD").Trim());
        Assert.Equal("HEAD", Git(first, "rev-parse", "--abbrev-ref", "HEAD").Trim());
        Assert.Equal(GitRevisionCache.CheckoutDepth, Git(first, "rev-list", "--count", "HEAD").Trim() is var n ? int.Parse(n) : 0);
        Assert.Equal("", Git(first, "status", "--porcelain"));
        Assert.Equal("https://gerrit.example.org/r/team/app", Git(first, "remote", "get-url", "origin").Trim());
        Assert.False(Directory.Exists(Path.Combine(first, ".git", "hooks")));
        Assert.False(Directory.Exists(Path.Combine(first, ".git", "logs")));
        Assert.False(File.Exists(Path.Combine(first, ".git", "FETCH_HEAD")));

        // A pipeline's fetch.depth, and shallow: false (0, the whole history).
        foreach (var (depth, count) in new[] { (3, 3), (0, 25) })
        {
            var dest = Dest();
            await cache.CheckoutAsync(_origin, "team/app", "refs/heads/main", last, dest, CancellationToken.None);
            await cache.WriteGitDirectoryAsync("team/app", last, dest, "https://gerrit.example.org/r/team/app", CancellationToken.None, depth);
            Assert.Equal(count.ToString(), Git(dest, "rev-list", "--count", "HEAD").Trim());
            Assert.Equal(depth > 0, File.Exists(Path.Combine(dest, ".git", "shallow")));
        }
    }

    [Fact]
    public async Task Fetch_tags_puts_the_servers_tags_into_the_checkout_and_drops_deleted_ones()
    {
        string last = "", third = "";
        for (var i = 1; i <= 25; i++)
        {
            last = Commit($"c{i}", new Dictionary<string, string> { ["a.txt"] = $"v{i}" });
            if (i == 3) third = last;
            if (i == 22) Git(_work, "tag", "v2.0"); // lightweight, 3 commits below the revision
        }
        Git(_work, "-c", "user.name=t", "-c", "user.email=t@example.org", "tag", "-a", "v1.0", "-m", "first release", third);
        Push(last, "refs/heads/main");
        Git(_work, "push", "--quiet", _origin, "refs/tags/v1.0", "refs/tags/v2.0");

        // PipelineLib's default: no tags, and nothing fetched for them.
        var plain = Dest();
        await _cache.CheckoutAsync(_origin, "team/app", "refs/heads/main", last, plain, CancellationToken.None);
        await _cache.WriteGitDirectoryAsync("team/app", last, plain, "https://gerrit.example.org/r/team/app", CancellationToken.None);
        Assert.Equal("", Git(plain, "tag", "--list"));
        Assert.Equal(1, _cache.FetchCount);

        // fetch.tags: every tag (each with its own depth of history), so `git describe --tags` works as under Jenkins.
        var tagged = Dest();
        await _cache.CheckoutAsync(_origin, "team/app", "refs/heads/main", last, tagged, CancellationToken.None);
        await _cache.WriteGitDirectoryAsync("team/app", last, tagged, "https://gerrit.example.org/r/team/app", CancellationToken.None, tagsFrom: _origin);
        Assert.Equal("v1.0\nv2.0\n", Git(tagged, "tag", "--list"));
        Assert.Equal("v2.0-3-g" + last[..7], Git(tagged, "describe", "--tags", "--abbrev=7").Trim());
        Assert.Equal("tag", Git(tagged, "cat-file", "-t", "v1.0").Trim()); // the annotated tag object itself
        Assert.Equal(third, Git(tagged, "rev-parse", "v1.0^{commit}").Trim());
        Assert.Equal("", Git(tagged, "status", "--porcelain"));
        Assert.Equal(last, Git(tagged, "rev-parse", "HEAD").Trim());

        // A tag deleted on the server is gone from the next checkout.
        Git(_work, "push", "--quiet", _origin, ":refs/tags/v2.0");
        var later = Dest();
        await _cache.CheckoutAsync(_origin, "team/app", "refs/heads/main", last, later, CancellationToken.None);
        await _cache.WriteGitDirectoryAsync("team/app", last, later, "https://gerrit.example.org/r/team/app", CancellationToken.None, tagsFrom: _origin);
        Assert.Equal("v1.0\n", Git(later, "tag", "--list"));
    }

    private static string Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {stderr}");
        return stdout;
    }

    private string Dest() => Path.Combine(_root, "out-" + Guid.NewGuid().ToString("N")[..8]);

    private static string[] Tree(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f) + "=" + File.ReadAllText(f)).Order(StringComparer.Ordinal).ToArray();

    private int CachedObjects(string project)
    {
        var repo = Path.Combine(_root, "cache", GitRevisionCache.RepositoryDirectoryName(project));
        var count = Git(repo, "count-objects", "-v");
        return count.Split('\n').Where(l => l.StartsWith("count:") || l.StartsWith("in-pack:")).Sum(l => int.Parse(l.Split(':')[1].Trim()));
    }

    [Fact]
    public async Task Exports_exactly_the_patchset_revision()
    {
        var first = Commit("one", new Dictionary<string, string> { ["a.txt"] = "1", ["dir/b.txt"] = "b", [".gitattributes"] = "a.txt export-ignore\n" });
        Push(first, "refs/heads/main");
        var patchset = Commit("two", new Dictionary<string, string> { ["a.txt"] = "2", ["c.sh"] = "#!/bin/sh\n" });
        Push(patchset, "refs/changes/01/1/1");

        var dest = Dest();
        await _cache.CheckoutAsync(_origin, "demo/service", "refs/changes/01/1/1", patchset, dest, CancellationToken.None);
        // Byte for byte the committed tree: export-ignore in the tree does not hide files from the build.
        Assert.Equal([".gitattributes=a.txt export-ignore\n", "a.txt=2", "c.sh=#!/bin/sh\n", "dir/b.txt=b"], Tree(dest));

        var branch = Dest();
        await _cache.CheckoutAsync(_origin, "demo/service", "main", first, branch, CancellationToken.None);
        Assert.Equal([".gitattributes=a.txt export-ignore\n", "a.txt=1", "dir/b.txt=b"], Tree(branch));
    }

    [Fact]
    public async Task A_second_fetch_brings_only_new_objects_and_a_cached_revision_is_not_fetched()
    {
        var big = string.Join('\n', Enumerable.Range(0, 2000).Select(i => $"line {i}"));
        var first = Commit("one", new Dictionary<string, string> { ["big.txt"] = big, ["x.txt"] = "x" });
        Push(first, "refs/changes/01/1/1");
        await _cache.CheckoutAsync(_origin, "p", "refs/changes/01/1/1", first, Dest(), CancellationToken.None);
        Assert.Equal(1, _cache.FetchCount);
        var afterFirst = CachedObjects("p"); // commit, tree, 2 blobs
        Assert.Equal(4, afterFirst);

        var second = Commit("two", new Dictionary<string, string> { ["x.txt"] = "y" });
        Push(second, "refs/changes/01/1/2");
        var dest = Dest();
        await _cache.CheckoutAsync(_origin, "p", "refs/changes/01/1/2", second, dest, CancellationToken.None);
        Assert.Equal(2, _cache.FetchCount);
        // Only the new commit, its tree and the changed blob came over (git fetch negotiates what the cache has).
        Assert.Equal(afterFirst + 3, CachedObjects("p"));
        Assert.Equal("y", File.ReadAllText(Path.Combine(dest, "x.txt")));

        // A recheck of a revision the cache holds needs no fetch at all.
        await _cache.CheckoutAsync(_origin, "p", "refs/changes/01/1/1", first, Dest(), CancellationToken.None);
        Assert.Equal(2, _cache.FetchCount);
    }

    [Fact]
    public async Task A_moved_ref_gives_a_clear_error_and_a_branch_that_moved_forward_still_builds_the_revision()
    {
        var first = Commit("one", new Dictionary<string, string> { ["a.txt"] = "1" });
        Push(first, "refs/heads/main");
        var second = Commit("two", new Dictionary<string, string> { ["a.txt"] = "2" });
        Push(second, "refs/heads/main");

        // The event named `first`, the branch has moved on: `first` is still on it and is what gets built.
        var dest = Dest();
        await _cache.CheckoutAsync(_origin, "q", "refs/heads/main", first, dest, CancellationToken.None);
        Assert.Equal("1", File.ReadAllText(Path.Combine(dest, "a.txt")));

        // A force-push to an unrelated history: the event's revision is nowhere on the ref.
        Git(_work, "checkout", "--quiet", "--orphan", "other");
        var unrelated = Commit("other", new Dictionary<string, string> { ["a.txt"] = "other" });
        Push(unrelated, "refs/heads/rewritten");
        var gone = new string('1', 40);
        var e = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            _cache.CheckoutAsync(_origin, "q", "refs/heads/rewritten", gone, Dest(), CancellationToken.None));
        Assert.Equal($"refs/heads/rewritten of q now points at {unrelated}, not {gone}: the ref moved and the revision is no longer reachable from it", e.Message);
    }

    [Fact]
    public async Task The_revision_is_fetched_by_id_and_a_server_refusing_that_is_fetched_by_ref()
    {
        var first = Commit("one", new Dictionary<string, string> { ["a.txt"] = "1" });
        Push(first, "refs/heads/main");
        var second = Commit("two", new Dictionary<string, string> { ["a.txt"] = "2" });
        Push(second, "refs/heads/main");

        // Protocol v2 serves any reachable revision by id: the cache's ref holds the revision itself, not the branch's tip.
        var dest = Dest();
        await _cache.CheckoutAsync(_origin, "by-id", "refs/heads/main", first, dest, CancellationToken.None);
        Assert.Equal("1", File.ReadAllText(Path.Combine(dest, "a.txt")));
        Assert.Equal(first, Git(_root, "--git-dir", CacheRepo("by-id"), "rev-parse", "refs/slipway/heads/main").Trim());

        // Protocol v0 (this cache's git set to it) serves by id only the refs' tips: `first` is refused by id, then
        // fetched with its branch, whose tip the cache's ref holds; the build still gets exactly `first`.
        Git(_root, "init", "--quiet", "--bare", CacheRepo("by-ref"));
        Git(_root, "--git-dir", CacheRepo("by-ref"), "config", "protocol.version", "0");
        dest = Dest();
        await _cache.CheckoutAsync(_origin, "by-ref", "refs/heads/main", first, dest, CancellationToken.None);
        Assert.Equal("1", File.ReadAllText(Path.Combine(dest, "a.txt")));
        Assert.Equal(second, Git(_root, "--git-dir", CacheRepo("by-ref"), "rev-parse", "refs/slipway/heads/main").Trim());
        Assert.Equal(2, _cache.FetchCount);
    }

    private string CacheRepo(string project) => Path.Combine(_root, "cache", GitRevisionCache.RepositoryDirectoryName(project));

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../b")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("x\ny")]
    public async Task Hostile_project_names_are_refused(string project)
    {
        var e = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            _cache.CheckoutAsync(_origin, project, "refs/heads/main", new string('a', 40), Dest(), CancellationToken.None));
        Assert.StartsWith("project name \"", e.Message);
        Assert.EndsWith("\" is not allowed (letters, digits, '.', '_', '-' and '/'-separated parts; no empty, '.' or '..' parts)", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "cache")));
    }

    [Fact]
    public async Task Hostile_refs_and_urls_are_refused_and_credentials_never_appear_in_errors()
    {
        var rev = new string('a', 40);
        var badRef = await Assert.ThrowsAsync<GitCheckoutException>(() => _cache.CheckoutAsync(_origin, "p", "--upload-pack=touch /tmp/x", rev, Dest(), CancellationToken.None));
        Assert.Equal("ref \"--upload-pack=touch /tmp/x\" is not a valid ref name", badRef.Message);
        var badUrl = await Assert.ThrowsAsync<GitCheckoutException>(() => _cache.CheckoutAsync("--upload-pack=touch /tmp/x", "p", "main", rev, Dest(), CancellationToken.None));
        Assert.Equal("repository URL \"--upload-pack=touch /tmp/x\" is not allowed", badUrl.Message);
        var badRev = await Assert.ThrowsAsync<GitCheckoutException>(() => _cache.CheckoutAsync(_origin, "p", "main", "HEAD", Dest(), CancellationToken.None));
        Assert.Equal("revision \"HEAD\" is not a full commit id (40 or 64 hex digits)", badRev.Message);

        // An unreachable server: the error names the URL without its password.
        var noServer = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            _cache.CheckoutAsync("http://builder:s3cret@127.0.0.1:1/repo.git", "p", "main", rev, Dest(), CancellationToken.None));
        Assert.DoesNotContain("s3cret", noServer.Message);
        Assert.StartsWith("git fetch --quiet --no-tags --no-auto-maintenance failed (exit 128): fatal: unable to access 'http://127.0.0.1:1/repo.git/'", noServer.Message);
    }

    [Fact]
    public async Task Concurrent_checkouts_of_one_project_share_one_cache()
    {
        var rev = Commit("one", new Dictionary<string, string> { ["a.txt"] = "1" });
        Push(rev, "refs/changes/05/5/1");
        var dests = Enumerable.Range(0, 4).Select(_ => Dest()).ToArray();
        await Task.WhenAll(dests.Select(d => _cache.CheckoutAsync(_origin, "r", "refs/changes/05/5/1", rev, d, CancellationToken.None)));
        Assert.All(dests, d => Assert.Equal("1", File.ReadAllText(Path.Combine(d, "a.txt"))));
        Assert.Equal(1, _cache.FetchCount); // serialized: the first fetched, the others found the revision cached
    }

    [Theory]
    [InlineData("https://user:pa55@gerrit.example.org/r/p.git", "https://***@gerrit.example.org/r/p.git")]
    [InlineData("fatal: could not read from 'ssh://bot:token@host:29418/p' and http://x:y@h/", "fatal: could not read from 'ssh://***@host:29418/p' and http://***@h/")]
    [InlineData("https://gerrit.example.org/r/p.git", "https://gerrit.example.org/r/p.git")]
    public void Credentials_in_urls_are_redacted(string text, string redacted) => Assert.Equal(redacted, Slipway.Hosting.UrlCredentials.Redact(text));
}
