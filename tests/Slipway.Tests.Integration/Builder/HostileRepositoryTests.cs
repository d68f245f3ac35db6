using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Building;
using Slipway.Builder.Git;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Repository content is hostile: real repositories with real symbolic links made by the git CLI, exported by the
/// builder's revision cache, and build contexts holding links, hard links and fifos, built by the real
/// <see cref="ImageBuilder"/>. Every link that leaves the tree is refused with a message naming the path, the host
/// file it points at (a secret marker outside the repository) reaches nothing — no workspace, no image — and a
/// link that stays inside still works.
/// </summary>
public sealed class HostileRepositoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "slipway-hostile-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly string _origin;
    private readonly string _work;
    private readonly string _secretFile;
    private readonly string _marker = "SLIPWAY-SECRET-" + Guid.NewGuid().ToString("N");

    public HostileRepositoryTests()
    {
        _origin = Path.Combine(_root, "origin.git");
        _work = Path.Combine(_root, "work");
        Directory.CreateDirectory(_root);
        // A host file outside every repository: what an attacker wants in their image.
        _secretFile = Path.Combine(_root, "host-secret.txt");
        try
        {
            File.WriteAllText(_secretFile, _marker + "\n");
            Git(_root, "init", "--quiet", "--bare", _origin);
            Git(_root, "init", "--quiet", "-b", "main", _work);
        }
        catch
        {
            Dispose(); // xunit does not dispose an instance whose constructor threw
            throw;
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private GitRevisionCache Cache(RevisionTreeOptions? limits = null) =>
        new(Path.Combine(_root, "cache"), NullLogger<GitRevisionCache>.Instance) { TreeLimits = limits ?? new RevisionTreeOptions() };

    /// <summary>Commits files and symbolic links (path → link target) with the git CLI and pushes them as a patch set.</summary>
    private string Push(IReadOnlyDictionary<string, string> files, IReadOnlyDictionary<string, string>? links = null)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(_work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        foreach (var (path, target) in links ?? new Dictionary<string, string>())
        {
            var full = Path.Combine(_work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            Run(_work, "ln", "-s", target, full);
        }
        Git(_work, "add", "-A");
        Git(_work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty", "-m", "hostile");
        var rev = Git(_work, "rev-parse", "HEAD").Trim();
        Git(_work, "push", "--quiet", "--force", _origin, $"{rev}:refs/changes/01/1/1");
        return rev;
    }

    private async Task<RevisionRefusedException> RefusedCheckoutAsync(string rev, string dest, RevisionTreeOptions? limits = null)
    {
        var e = await Assert.ThrowsAsync<RevisionRefusedException>(() =>
            Cache(limits).CheckoutAsync(_origin, "hostile", "refs/changes/01/1/1", rev, dest, CancellationToken.None));
        // Nothing of a refused revision is left for anything to read.
        Assert.False(Directory.Exists(dest));
        return e;
    }

    private const string Config = "version: v4\nbase: {0}\nvariants:\n  test:\n    copies: [local]\n";

    public static TheoryData<string, string> EscapingLinks() => new()
    {
        // path of the link in the repository, how it points at the host file
        { ".dockerignore", "absolute" },
        { ".pipeline/blubber.yaml", "absolute" },
        { "src/data.txt", "absolute" },      // a build context file
        { "assets/logo.txt", "relative" },   // a copies source, climbing out with ../..
    };

    [Theory]
    [MemberData(nameof(EscapingLinks))]
    public async Task A_link_that_leaves_the_revision_refuses_it_naming_the_path(string linkPath, string how)
    {
        var target = how == "absolute"
            ? _secretFile
            : string.Concat(Enumerable.Repeat("../", linkPath.Count(c => c == '/') + 6)) + _secretFile.TrimStart('/');
        var files = new Dictionary<string, string> { ["README"] = "hello\n" };
        if (linkPath != ".pipeline/blubber.yaml") files[".pipeline/blubber.yaml"] = string.Format(Config, ImageBuildFixture.Base);
        var rev = Push(files, new Dictionary<string, string> { [linkPath] = target });

        var dest = Path.Combine(_root, "out");
        var e = await RefusedCheckoutAsync(rev, dest);

        Assert.Equal($"the revision is refused: {linkPath}: is a symbolic link to \"{target}\", outside the repository", e.Message);
        Assert.Equal(linkPath, e.Path);
        Assert.DoesNotContain(_marker, e.Message);
    }

    [Fact]
    public async Task A_link_chain_that_stays_inside_by_name_but_climbs_out_physically_is_refused()
    {
        // d1/d2/up -> .. is d1; "escape" -> d1/d2/up/../../.. reads as the root by name, but is the root's parent on disk.
        var rev = Push(new Dictionary<string, string> { ["d1/d2/keep.txt"] = "k" },
            new Dictionary<string, string> { ["d1/d2/up"] = "..", ["escape"] = "d1/d2/up/../../.." });

        var e = await RefusedCheckoutAsync(rev, Path.Combine(_root, "out"));

        Assert.Equal("the revision is refused: escape: is a symbolic link to \"d1/d2/up/../../..\", outside the repository", e.Message);
    }

    [Fact]
    public async Task A_directory_link_cannot_carry_a_pipeline_file_out()
    {
        var rev = Push(new Dictionary<string, string> { ["README"] = "x" }, new Dictionary<string, string> { [".pipeline"] = _root });

        var e = await RefusedCheckoutAsync(rev, Path.Combine(_root, "out"));

        Assert.Equal($"the revision is refused: .pipeline: is a symbolic link to \"{_root}\", outside the repository", e.Message);
    }

    [Fact]
    public async Task Control_characters_in_a_name_refuse_the_revision()
    {
        var rev = Push(new Dictionary<string, string> { ["evil\u001b[31mname.txt"] = "x", ["ok.txt"] = "y" });

        var e = await RefusedCheckoutAsync(rev, Path.Combine(_root, "out"));

        Assert.Equal("the revision is refused: evil?[31mname.txt: the name contains control characters or is not UTF-8", e.Message);
    }

    public static TheoryData<string, string> TreeLimits() => new()
    {
        { "files", "the revision is refused: f3.txt: the revision holds more than 3 files (Builder:Tree:MaxFiles)" },
        { "directories", "the revision is refused: d3: the revision holds more than 3 directories (Builder:Tree:MaxDirectories)" },
        { "bytes", "the revision is refused: f1.txt: the revision holds more than 2048 bytes (Builder:Tree:MaxBytes)" },
        { "depth", "the revision is refused: a/b/c/d/e/deep.txt: is deeper than 5 levels (Builder:Tree:MaxPathDepth)" },
        { "length", $"the revision is refused: {new string('n', 70)}.txt: is longer than 64 bytes (Builder:Tree:MaxPathLength)" },
    };

    [Theory]
    [MemberData(nameof(TreeLimits))]
    public async Task A_revision_past_a_tree_limit_is_refused_naming_the_limit(string limit, string message)
    {
        var limits = new RevisionTreeOptions();
        var files = new Dictionary<string, string>();
        switch (limit)
        {
            case "files":
                limits.MaxFiles = 3;
                for (var i = 0; i < 5; i++) files[$"f{i}.txt"] = "x";
                break;
            case "directories":
                limits.MaxDirectories = 3;
                for (var i = 0; i < 5; i++) files[$"d{i}/f.txt"] = "x";
                break;
            case "bytes":
                limits.MaxBytes = 2048;
                files["f0.txt"] = new string('a', 1500);
                files["f1.txt"] = new string('b', 1500);
                break;
            case "depth":
                limits.MaxPathDepth = 5;
                files["a/b/c/d/e/deep.txt"] = "x";
                break;
            case "length":
                limits.MaxPathLength = 64;
                files[new string('n', 70) + ".txt"] = "x";
                break;
        }
        var rev = Push(files);

        var e = await RefusedCheckoutAsync(rev, Path.Combine(_root, "out"), limits);

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public async Task Links_inside_the_revision_are_kept_and_build()
    {
        var rev = Push(new Dictionary<string, string>
        {
            ["docs/readme.md"] = "inside " + _marker[..8] + "\n",
            ["conf/.pipeline-blubber.yaml"] = string.Format(Config, ImageBuildFixture.Base),
        }, new Dictionary<string, string>
        {
            ["README"] = "docs/readme.md",
            ["docs/up"] = "..",
            [".pipeline/blubber.yaml"] = "../conf/.pipeline-blubber.yaml",
        });
        var dest = Path.Combine(_root, "out");
        await Cache().CheckoutAsync(_origin, "hostile", "refs/changes/01/1/1", rev, dest, CancellationToken.None);
        Assert.Equal("docs/readme.md", new FileInfo(Path.Combine(dest, "README")).LinkTarget);

        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var result = await f.BuildAsync(dest, "test");

        Assert.True(result.Succeeded, result.Reason);
        // COPY sends a link as a link: it still points at the copied file inside the image.
        var (_, readme) = await scope.RunAsync(result.ImageId!, ["cat", "/srv/app/README"]);
        Assert.Equal("inside " + _marker[..8] + "\n", readme);
    }

    // --- build contexts handed to the image builder (the last line of defence, whatever made the directory) ---

    public static TheoryData<string> ContextLinks() => new() { ".dockerignore", ".pipeline/blubber.yaml", "src/data.txt", "assets/logo.txt" };

    [Theory]
    [MemberData(nameof(ContextLinks))]
    public async Task The_image_builder_refuses_a_context_link_to_a_host_file_and_builds_nothing(string linkPath)
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var files = new Dictionary<string, string?>
        {
            ["README"] = "hello\n",
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {ImageBuildFixture.Base}\nvariants:\n  test:\n    copies:\n      - local\n      - from: local\n        source: assets/logo.txt\n        destination: logo.txt\n",
            ["assets/keep.txt"] = "k",
        };
        files.Remove(linkPath);
        var context = f.Context(files);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(context, linkPath))!);
        File.CreateSymbolicLink(Path.Combine(context, linkPath), _secretFile);

        var result = await f.BuildAsync(context, "test");

        Assert.False(result.Succeeded);
        Assert.Equal(BuildFailureKind.Context, result.Failure);
        Assert.Equal($"{linkPath}: is a symbolic link to \"{_secretFile}\", outside the build context", result.Reason);
        Assert.Empty(f.Lines); // nothing reached the engine
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_fifo_in_the_context_is_refused_at_once_instead_of_blocking_the_build()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {ImageBuildFixture.Base}\nvariants:\n  test:\n    copies: [local]\n",
        });
        Run(context, "mkfifo", "pipe");

        // A read of the fifo would block until the build's time limit; the bound only keeps a regression from hanging the suite.
        var result = await f.BuildAsync(context, "test").WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(BuildFailureKind.Context, result.Failure);
        Assert.Equal("pipe: is a fifo (named pipe); a build context may hold only files, directories and symbolic links", result.Reason);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_hard_link_to_a_host_file_is_refused_and_its_content_is_never_sent()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {ImageBuildFixture.Base}\nvariants:\n  test:\n    copies: [local]\n",
        });
        // Same file system (both under the temp directory), so ln makes a second name for the host file.
        Run(context, "ln", _secretFile, Path.Combine(context, "data.txt"));

        var result = await f.BuildAsync(context, "test");

        Assert.Equal(BuildFailureKind.Context, result.Failure);
        Assert.Equal("data.txt: " + Slipway.BuildConfig.ContainedTree.HardLinkMessage, result.Reason);
        Assert.Empty(f.Lines);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    private static string Git(string dir, params string[] args) => Run(dir, "git", args);

    private static string Run(string dir, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {stderr}");
        return stdout;
    }
}
