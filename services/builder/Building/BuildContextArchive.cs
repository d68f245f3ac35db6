using System.Formats.Tar;
using System.Text;
using Slipway.BuildConfig;

namespace Slipway.Builder.Building;

/// <summary>
/// The tar sent to the engine's BuildKit as the build context: the context's files after <c>.dockerignore</c>
/// (applied here: BuildKit applies no <c>.dockerignore</c> to a context sent as the request body) and the generated
/// Dockerfile under a name no context file has. Without a session the Dockerfile can only travel inside the
/// context, so a whole-context <c>COPY . .</c> also copies it (unlike the classic builder, which dropped it).
/// </summary>
public static class BuildContextArchive
{
    public const string DockerfileName = ".slipway.Dockerfile";

    /// <summary>Writes the archive to <paramref name="output"/>; returns the Dockerfile's name inside it.</summary>
    /// <param name="ignoreOverride">.dockerignore text that replaces the context's own (PipelineLib's <c>build.excludes</c>); null keeps it.</param>
    public static string Write(string contextDir, IReadOnlyList<string> contextFiles, string dockerfile, Stream output, long maxBytes,
        string? ignoreOverride = null)
    {
        contextDir = Path.GetFullPath(contextDir);
        var present = contextFiles.ToHashSet(StringComparer.Ordinal);
        var dockerfileName = DockerfileName;
        for (var i = 1; present.Contains(dockerfileName); i++) dockerfileName = $"{DockerfileName}.{i}";

        // Read through the contained resolver: a .dockerignore linking to a host file is refused, never sent.
        var ignoreContent = ignoreOverride ?? ContainedTree.ReadText(contextDir, ".dockerignore", Limits.Default.MaxFileBytes, "the build context");
        var ignore = ignoreContent is not null ? DockerIgnore.FromFileText(ignoreContent) : new DockerIgnore([]);

        long total = 0;
        using var writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        // First, with a short name: BuildKit tells a tar body from a bare Dockerfile by parsing the first header
        // alone (so no PAX or long-name record may come first).
        WriteText(writer, dockerfileName, dockerfile, (UnixFileMode)0b110_100_100);
        foreach (var dir in Directories(contextDir, contextFiles, ignore))
        {
            var full = Path.Combine(contextDir, dir);
            writer.WriteEntry(new GnuTarEntry(TarEntryType.Directory, dir + "/")
            {
                Mode = ModeOf(full, (UnixFileMode)0b111_101_101),
                ModificationTime = Directory.GetLastWriteTimeUtc(full),
            });
        }
        foreach (var rel in contextFiles)
        {
            var full = Path.Combine(contextDir, rel);
            var info = new FileInfo(full);
            if (info.LinkTarget is { } target)
            {
                writer.WriteEntry(new GnuTarEntry(TarEntryType.SymbolicLink, rel)
                {
                    LinkName = target, Mode = (UnixFileMode)0b111_111_111, ModificationTime = info.LastWriteTimeUtc,
                });
                continue;
            }
            // Listed as a regular file a moment ago; checked again right before it is read.
            ContainedTree.RequireRegularFile(full, rel);
            total += info.Length;
            if (total > maxBytes) throw new BuildContextException($"build context is larger than {maxBytes} bytes");
            using var data = File.OpenRead(full);
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, rel)
            {
                Mode = info.UnixFileMode, ModificationTime = info.LastWriteTimeUtc, DataStream = data,
            });
        }

        return dockerfileName;
    }

    // Windows has no Unix modes; the engine then gets the usual 0755/0644.
    private static UnixFileMode ModeOf(string path, UnixFileMode fallback) =>
        OperatingSystem.IsWindows() ? fallback : File.GetUnixFileMode(path);

    private static void WriteText(TarWriter writer, string name, string text, UnixFileMode mode)
    {
        using var data = new MemoryStream(Encoding.UTF8.GetBytes(text));
        writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name) { Mode = mode, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data });
    }

    /// <summary>Directories not excluded (so empty ones are kept, as the CLI keeps them) and every parent of a kept file.</summary>
    private static IEnumerable<string> Directories(string contextDir, IReadOnlyList<string> files, DockerIgnore ignore)
    {
        var dirs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var f in files)
            for (var i = f.LastIndexOf('/'); i > 0; i = f.LastIndexOf('/', i - 1))
                dirs.Add(f[..i]);
        var pending = new Stack<string>([contextDir]);
        while (pending.Count > 0)
            foreach (var d in new DirectoryInfo(pending.Pop()).EnumerateDirectories())
            {
                if (d.LinkTarget is not null) continue; // listed as a symlink file by Blubber.ListContext
                var rel = Path.GetRelativePath(contextDir, d.FullName).Replace('\\', '/');
                if (!ignore.Excludes(rel)) dirs.Add(rel);
                pending.Push(d.FullName);
            }
        return dirs;
    }
}
