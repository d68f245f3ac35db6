using System.Diagnostics;
using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>Symlink-safe resolution inside a tree, on a real file system with real links.</summary>
public sealed class ContainedTreeTests : IDisposable
{
    private readonly string _outside = Directory.CreateTempSubdirectory("slipway-contained-").FullName;
    private readonly string _root;

    public ContainedTreeTests()
    {
        _root = Path.Combine(_outside, "tree");
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        File.WriteAllText(Path.Combine(_root, "a", "b", "file.txt"), "inside");
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "outside");
    }

    public void Dispose() => Directory.Delete(_outside, recursive: true);

    private void Link(string path, string target) => File.CreateSymbolicLink(Path.Combine(_root, path), target);

    [Fact]
    public void Links_that_stay_inside_are_followed()
    {
        Link("short", "a/b/file.txt");
        Link("a/up", "..");
        Link("via", "a/up/a/b");
        Assert.Equal("inside", ContainedTree.ReadText(_root, "short", 100));
        Assert.Equal("inside", ContainedTree.ReadText(_root, "via/file.txt", 100));
        Assert.Equal("inside", ContainedTree.ReadText(_root, "a/b/../b/file.txt", 100));
        Assert.Null(ContainedTree.ReadText(_root, "a/missing/x", 100));
    }

    [Theory]
    [InlineData("abs", "{secret}", "abs: is a symbolic link to \"{secret}\", outside the repository")]
    [InlineData("rel", "../secret.txt", "rel: is a symbolic link to \"../secret.txt\", outside the repository")]
    [InlineData("a/b/deep", "../../../secret.txt", "a/b/deep: is a symbolic link to \"../../../secret.txt\", outside the repository")]
    public void A_link_that_leaves_is_refused_naming_it(string path, string target, string message)
    {
        var secret = Path.Combine(_outside, "secret.txt");
        Link(path, target.Replace("{secret}", secret));
        var e = Assert.Throws<UnsafePathException>(() => ContainedTree.ReadText(_root, path, 100));
        Assert.Equal(message.Replace("{secret}", secret), e.Message);
    }

    [Fact]
    public void A_dotdot_after_a_link_is_resolved_physically()
    {
        // a/b/here -> . ; "a/b/here/../../.." is the root by name, but here = a/b, so three ".." leave the tree.
        Link("a/b/here", ".");
        Assert.Throws<UnsafePathException>(() => ContainedTree.Resolve(_root, "a/b/here/../../../secret.txt"));
        // Going through a directory link to an outside directory is refused naming the link.
        Link("dir", _outside);
        var e = Assert.Throws<UnsafePathException>(() => ContainedTree.ReadText(_root, "dir/secret.txt", 100));
        Assert.Equal($"dir/secret.txt: goes through the symbolic link dir -> \"{_outside}\", outside the repository", e.Message);
    }

    [Fact]
    public void Paths_that_leave_by_name_or_are_absolute_are_refused()
    {
        Assert.Equal("../x: leaves the repository (\"..\" above its root)", Assert.Throws<UnsafePathException>(() => ContainedTree.Resolve(_root, "../x")).Message);
        Assert.Equal("/etc/passwd: is an absolute path; only paths inside the repository are read",
            Assert.Throws<UnsafePathException>(() => ContainedTree.Resolve(_root, "/etc/passwd")).Message);
    }

    [Fact]
    public void A_link_loop_is_refused()
    {
        Link("loop1", "loop2");
        Link("loop2", "loop1");
        Assert.StartsWith("loop1: too many levels of symbolic links", Assert.Throws<UnsafePathException>(() => ContainedTree.Resolve(_root, "loop1")).Message);
    }

    [Fact]
    public void Fifos_and_hard_links_are_not_read()
    {
        if (!OperatingSystem.IsLinux()) return;
        Run("mkfifo", Path.Combine(_root, "pipe"));
        Run("ln", Path.Combine(_outside, "secret.txt"), Path.Combine(_root, "hard.txt"));
        Assert.Equal(TreeEntryKind.Fifo, ContainedTree.Inspect(Path.Combine(_root, "pipe")).Kind);
        Assert.Equal("pipe: is a fifo (named pipe); only regular files are read",
            Assert.Throws<UnsafePathException>(() => ContainedTree.ReadText(_root, "pipe", 100)).Message);
        Assert.Equal("hard.txt: " + ContainedTree.HardLinkMessage,
            Assert.Throws<UnsafePathException>(() => ContainedTree.ReadText(_root, "hard.txt", 100)).Message);
        Assert.Equal(TreeEntryKind.CharacterDevice, ContainedTree.Inspect("/dev/null").Kind);
    }

    [Fact]
    public void A_file_past_the_limit_is_refused()
    {
        Assert.Equal("a/b/file.txt: file is larger than 3 bytes",
            Assert.Throws<UnsafePathException>(() => ContainedTree.ReadText(_root, "a/b/file.txt", 3)).Message);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
