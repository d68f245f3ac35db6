using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Git;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// PipelineLib's <c>fetch.submodules</c> against real bare repositories of one git server (a directory served over
/// <c>file://</c>, the builder's <c>Builder:GitUrl</c> in these tests) and the real git CLI: a revision's submodules, nested
/// ones included, are fetched by commit id and exported into their directories; where they come from, how many and how
/// much they hold are bounded, and each refusal names the submodule.
/// </summary>
public sealed class GitSubmoduleCheckoutTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-submodules-").FullName;
    private readonly string _server;

    public GitSubmoduleCheckoutTests() => _server = Path.Combine(_root, "server");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string ServerBase => "file://" + _server;

    private GitRevisionCache Cache(RevisionTreeOptions? limits = null) =>
        new(Path.Combine(_root, "cache"), NullLogger<GitRevisionCache>.Instance) { TreeLimits = limits ?? new RevisionTreeOptions() };

    /// <summary>Commits <paramref name="files"/> and <paramref name="gitlinks"/> (path → commit) to project's main branch; returns the commit.</summary>
    private string Commit(string project, IReadOnlyDictionary<string, string> files, IReadOnlyDictionary<string, string>? gitlinks = null)
    {
        var bare = Path.Combine(_server, project);
        if (!Directory.Exists(bare)) Git(_root, "init", "--quiet", "--bare", bare);
        var work = Path.Combine(_root, "work", project);
        if (!Directory.Exists(work)) Git(_root, "init", "--quiet", "-b", "main", work);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        Git(work, "add", "-A");
        foreach (var (path, commit) in gitlinks ?? new Dictionary<string, string>())
            Git(work, "update-index", "--add", "--cacheinfo", $"160000,{commit},{path}");
        Git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty", "-m", "c");
        var sha = Git(work, "rev-parse", "HEAD").Trim();
        Git(work, "push", "--quiet", bare, "HEAD:refs/heads/main");
        return sha;
    }

    private static string Modules(params (string Path, string Url)[] entries) =>
        string.Concat(entries.Select(e => $"[submodule \"{e.Path}\"]\n\tpath = {e.Path}\n\turl = {e.Url}\n"));

    private async Task<string> CheckoutAsync(string project, string revision, SubmoduleOptions? options = null, RevisionTreeOptions? limits = null)
    {
        var dest = Path.Combine(_root, "out-" + Guid.NewGuid().ToString("N")[..8]);
        var cache = Cache(limits);
        await cache.CheckoutAsync($"{ServerBase}/{project}", project, "refs/heads/main", revision, dest, CancellationToken.None);
        await cache.CheckoutSubmodulesAsync(project, revision, dest, ServerBase, options ?? new SubmoduleOptions(), CancellationToken.None);
        return dest;
    }

    private static string[] Tree(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f) + "=" + File.ReadAllText(f).Trim()).Order(StringComparer.Ordinal).ToArray();

    /// <summary>team/app → modules/lib (../lib) → vendor/inner (../inner): two levels, by relative URLs as Gerrit projects use them.</summary>
    private string NestedApp()
    {
        var inner = Commit("team/inner", new Dictionary<string, string> { ["inner.txt"] = "inner" });
        var lib = Commit("team/lib", new Dictionary<string, string> { ["lib.txt"] = "lib", [".gitmodules"] = Modules(("vendor/inner", "../inner")) },
            new Dictionary<string, string> { ["vendor/inner"] = inner });
        return Commit("team/app", new Dictionary<string, string> { ["app.txt"] = "app", [".gitmodules"] = Modules(("modules/lib", "../lib.git")) },
            new Dictionary<string, string> { ["modules/lib"] = lib });
    }

    [Fact]
    public async Task Submodules_on_the_same_server_are_checked_out_at_their_commits_nested_ones_too()
    {
        var app = NestedApp();
        var dest = await CheckoutAsync("team/app", app);
        Assert.Equal(
            [".gitmodules=" + Modules(("modules/lib", "../lib.git")).Trim(), "app.txt=app",
             "modules/lib/.gitmodules=" + Modules(("vendor/inner", "../inner")).Trim(), "modules/lib/lib.txt=lib", "modules/lib/vendor/inner/inner.txt=inner"],
            Tree(dest));
        Assert.False(Directory.Exists(Path.Combine(dest, "modules/lib/.git")));
    }

    [Fact]
    public async Task A_submodule_from_anywhere_else_is_refused_naming_it_and_nothing_is_fetched()
    {
        var app = Commit("team/app", new Dictionary<string, string> { ["app.txt"] = "app", [".gitmodules"] = Modules(("meta", "http://169.254.169.254/latest")) },
            new Dictionary<string, string> { ["meta"] = new string('a', 40) });
        var e = await Assert.ThrowsAsync<RevisionRefusedException>(() => CheckoutAsync("team/app", app));
        Assert.Equal("meta", e.Path);
        Assert.Contains("meta: is a submodule that is not fetched: it comes from http://169.254.169.254/latest, which is not allowed", e.Message);
        Assert.Contains("Builder:Submodules:AllowedUrls", e.Message);
        Assert.Equal([GitRevisionCache.RepositoryDirectoryName("team/app")], // no cache made for it: nothing fetched
            Directory.GetDirectories(Path.Combine(_root, "cache")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Count_nesting_a_missing_url_and_the_trees_limits_are_bounded_across_submodules()
    {
        var app = NestedApp();
        var count = await Assert.ThrowsAsync<RevisionRefusedException>(() => CheckoutAsync("team/app", app, new SubmoduleOptions { MaxCount = 1 }));
        Assert.Contains("modules/lib/vendor/inner: the revision has more than 1 submodules (Builder:Submodules:MaxCount)", count.Message);
        var depth = await Assert.ThrowsAsync<RevisionRefusedException>(() => CheckoutAsync("team/app", app, new SubmoduleOptions { MaxDepth = 1 }));
        Assert.Contains("modules/lib/vendor/inner: is nested deeper than 1 submodules (Builder:Submodules:MaxDepth)", depth.Message);
        // app.txt, .gitmodules and lib's two files fit in 4; inner.txt does not.
        var files = await Assert.ThrowsAsync<RevisionRefusedException>(() => CheckoutAsync("team/app", app, limits: new RevisionTreeOptions { MaxFiles = 4 }));
        Assert.Contains("Builder:Tree:MaxFiles", files.Message);

        var bare = Commit("team/bare", new Dictionary<string, string> { ["x"] = "x" }, new Dictionary<string, string> { ["nowhere"] = app });
        var missing = await Assert.ThrowsAsync<RevisionRefusedException>(() => CheckoutAsync("team/bare", bare));
        Assert.Contains("nowhere: is a submodule with no URL in .gitmodules", missing.Message);
    }

    [Fact]
    public async Task A_submodule_commit_its_repository_does_not_have_fails_the_fetch_naming_it()
    {
        Commit("team/lib", new Dictionary<string, string> { ["lib.txt"] = "lib" });
        var app = Commit("team/app", new Dictionary<string, string> { [".gitmodules"] = Modules(("lib", "../lib")) },
            new Dictionary<string, string> { ["lib"] = new string('b', 40) });
        var e = await Assert.ThrowsAnyAsync<GitCheckoutException>(() => CheckoutAsync("team/app", app));
        Assert.IsNotType<RevisionRefusedException>(e); // the server's answer, tried again by the job; not a refusal of the revision
        Assert.Contains($"submodule lib: commit {new string('b', 40)} is not on any branch", e.Message);
    }

    private static string Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {stderr}");
        return stdout;
    }
}
