using System.Formats.Tar;
using System.Text;
using Slipway.Artifacts;
using Slipway.Contracts;
using Slipway.Tester.Copying;

namespace Slipway.Tests.Unit.Tester;

/// <summary>
/// The tar a run container's copy arrives in is hostile: crafted archives (names the engine would never write, links,
/// devices, more than the limits) are refused with the reason, and nothing is written outside the staging directory.
/// </summary>
public sealed class ContainerArchiveExtractionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-extract-").FullName;
    private string Staging => Path.Combine(_root, "staging");

    public ContainerArchiveExtractionTests() => Directory.CreateDirectory(Staging);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static MemoryStream Tar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, leaveOpen: true))
            foreach (var e in entries) writer.WriteEntry(e);
        stream.Position = 0;
        return stream;
    }

    private static PaxTarEntry File(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)), Mode = mode };

    private static PaxTarEntry Dir(string name) => new(TarEntryType.Directory, name);

    private Task<string?> Extract(MemoryStream tar, RunCopy copy, ArtifactOptions? limits = null, IDictionary<string, RunArtifact>? archived = null) =>
        ContainerFileCopier.ExtractAsync(tar, copy, Staging, limits ?? new ArtifactOptions(), archived, CancellationToken.None);

    private IEnumerable<string> Written() =>
        Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_root, p).Replace('\\', '/')).Order();

    [Fact]
    public async Task A_directory_lands_as_its_contents_with_hard_links_copied_and_archives_listed()
    {
        var archived = new Dictionary<string, RunArtifact>();
        var reason = await Extract(Tar(Dir("dist/"), Dir("dist/sub/"), File("dist/sub/a.sh", "run", (UnixFileMode)0b111_101_101 | UnixFileMode.SetUser),
                new PaxTarEntry(TarEntryType.HardLink, "dist/b.sh") { LinkName = "dist/sub/a.sh" }),
            new RunCopy { Source = "/srv/dist", Destination = "out/dist/", Archive = true }, archived: archived);
        Assert.Null(reason);
        Assert.Equal(["staging", "staging/out", "staging/out/dist", "staging/out/dist/b.sh", "staging/out/dist/sub", "staging/out/dist/sub/a.sh"], Written());
        Assert.Equal("run", System.IO.File.ReadAllText(Path.Combine(Staging, "out/dist/b.sh")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal((UnixFileMode)0b111_101_101, System.IO.File.GetUnixFileMode(Path.Combine(Staging, "out/dist/sub/a.sh"))); // no setuid
        Assert.Equal(["out/dist/b.sh", "out/dist/sub/a.sh"], archived.Keys.Order());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("run"u8)), archived["out/dist/b.sh"].Sha256);
    }

    [Theory]
    [InlineData("report.txt", "generated/report.txt", "staging/generated/report.txt")]
    [InlineData("report.txt", "generated/", "staging/generated/report.txt")]
    [InlineData("report.txt", "./", "staging/report.txt")]
    public async Task A_file_lands_at_its_destination(string name, string destination, string expected)
    {
        Assert.Null(await Extract(Tar(File(name, "x")), new RunCopy { Source = "/tmp/" + name, Destination = destination }));
        Assert.Contains(expected, Written());
    }

    [Theory]
    [InlineData("/etc/cron.d/x", "the archive entry `/etc/cron.d/x` is an absolute path")]
    [InlineData("dist/../../escape", "the archive entry `dist/../../escape` is not a plain relative path")]
    [InlineData("other/file", "the archive entry `other/file` is outside the copied path")]
    [InlineData("dist/a\tb", "the archive entry `dist/a\\u0009b` contains control characters")]
    [InlineData("dist/a\nb", "the engine's archive is not a valid tar (The extended header contains invalid records.)")]
    public async Task Crafted_names_are_refused(string name, string expected)
    {
        var reason = await Extract(Tar(Dir("dist/"), File(name, "x")), new RunCopy { Source = "/srv/dist", Destination = "d" });
        Assert.Equal(expected, reason);
        Assert.DoesNotContain(Written(), p => !p.StartsWith("staging", StringComparison.Ordinal));
        Assert.False(System.IO.File.Exists(Path.Combine(_root, "escape")));
    }

    [Fact]
    public async Task Links_and_devices_are_refused()
    {
        Assert.Equal("`/srv/dist/passwd` is a link (to `/etc/passwd`): links are not copied",
            await Extract(Tar(Dir("dist/"), new PaxTarEntry(TarEntryType.SymbolicLink, "dist/passwd") { LinkName = "/etc/passwd" }),
                new RunCopy { Source = "/srv/dist", Destination = "d" }));
        Assert.Equal("`/srv/dist/null` is a CharacterDevice entry: only files and directories are copied",
            await Extract(Tar(Dir("dist/"), new PaxTarEntry(TarEntryType.CharacterDevice, "dist/null")), new RunCopy { Source = "/srv/dist", Destination = "e" }));
        Assert.Equal("the archive entry `dist/h` links to `/etc/shadow`, which is not a file copied before it",
            await Extract(Tar(Dir("dist/"), new PaxTarEntry(TarEntryType.HardLink, "dist/h") { LinkName = "/etc/shadow" }), new RunCopy { Source = "/srv/dist", Destination = "f" }));
        Assert.DoesNotContain(Written(), p => p.Contains("passwd") || p.Contains("null") || p.EndsWith("/h", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_limits_stop_the_copy()
    {
        var limits = new ArtifactOptions { MaxBytesPerStep = 10, MaxFilesPerStep = 3 };
        Assert.Equal("more than 10 bytes in this step's copies (Artifacts:MaxBytesPerStep)",
            await Extract(Tar(File("big", "01234567890")), new RunCopy { Source = "/big", Destination = "big" }, limits));
        Assert.Equal("more than 3 files and directories in this step's copies (Artifacts:MaxFilesPerStep)",
            await Extract(Tar(Dir("d/"), File("d/1", ""), File("d/2", ""), File("d/3", "")), new RunCopy { Source = "/d", Destination = "d" }, limits));
    }
}
