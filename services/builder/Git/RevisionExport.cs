using System.Formats.Tar;
using System.Text;
using Slipway.BuildConfig;

namespace Slipway.Builder.Git;

/// <summary>
/// Writes the tar stream of <c>git archive</c> into an empty directory, trusting nothing in it: only directories,
/// regular files and symbolic links are accepted (a hard link, fifo or device entry refuses the revision); names must
/// be relative, without <c>.</c>/<c>..</c> parts or control characters, within the path limits; file, directory and
/// byte counts are bounded. Symbolic links are created last, so no file is ever written through one, and then every link must
/// resolve inside the tree (<see cref="ContainedTree"/>): a link that leaves it refuses the revision, naming it.
/// </summary>
internal static class RevisionExport
{
    /// <summary>What an extraction wrote: counted against the limits of the whole tree (a revision and its submodules).</summary>
    public sealed record Usage(int Files, int Directories, long Bytes);

    public static async Task<Usage> ExtractAsync(Stream tar, string destination, RevisionTreeOptions limits, CancellationToken ct)
    {
        var root = Path.GetFullPath(destination);
        var links = new List<(string Path, string Target)>();
        var linkPaths = new HashSet<string>(StringComparer.Ordinal);
        var files = 0;
        var directories = 0;
        long bytes = 0;
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            if (entry.EntryType == TarEntryType.GlobalExtendedAttributes) continue; // git's commit id comment
            var name = CheckName(entry.Name, limits);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    // Counted before it is made: a deep, wide tree would otherwise make millions before a file limit stops it.
                    if (++directories > limits.MaxDirectories)
                        throw new UnsafePathException(name, $"the revision holds more than {limits.MaxDirectories} directories (Builder:Tree:MaxDirectories)");
                    Directory.CreateDirectory(Path.Combine(root, name));
                    continue;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    break;
                case TarEntryType.SymbolicLink:
                    if (entry.LinkName.Length is 0 or > 4095 || entry.LinkName.Contains('\0'))
                        throw new UnsafePathException(name, "is a symbolic link with an empty or invalid target");
                    links.Add((name, entry.LinkName));
                    linkPaths.Add(name);
                    Count(ref files, name, limits);
                    continue;
                case TarEntryType.HardLink:
                    throw new UnsafePathException(name, "is a hard link; a revision may hold only files, directories and symbolic links");
                default:
                    throw new UnsafePathException(name, $"is a {entry.EntryType} entry; a revision may hold only files, directories and symbolic links");
            }
            Count(ref files, name, limits);
            bytes += entry.Length;
            if (bytes > limits.MaxBytes)
                throw new UnsafePathException(name, $"the revision holds more than {limits.MaxBytes} bytes (Builder:Tree:MaxBytes)");
            var full = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            // CreateNew: an entry never replaces another (a second entry of one name is refused).
            await using (var output = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                if (entry.DataStream is { } data) await data.CopyToAsync(output, ct);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(full, entry.Mode & (UnixFileMode)0b111_111_111); // no setuid, setgid or sticky
            File.SetLastWriteTimeUtc(full, entry.ModificationTime.UtcDateTime);
        }

        foreach (var (path, target) in links)
        {
            // A file or directory below a link's name (a crafted tree) would be reached through the link.
            if (Ancestors(path).FirstOrDefault(linkPaths.Contains) is { } parent)
                throw new UnsafePathException(path, $"lies below the symbolic link {parent}");
            try { File.CreateSymbolicLink(Path.Combine(root, path), target); }
            catch (IOException) { throw new UnsafePathException(path, "is both a symbolic link and a file or directory"); }
        }
        foreach (var (path, _) in links) ContainedTree.Resolve(root, path); // refuses a link that leaves the tree
        return new Usage(files, directories, bytes);
    }

    private static void Count(ref int files, string name, RevisionTreeOptions limits)
    {
        if (++files > limits.MaxFiles)
            throw new UnsafePathException(name, $"the revision holds more than {limits.MaxFiles} files (Builder:Tree:MaxFiles)");
    }

    private static string CheckName(string raw, RevisionTreeOptions limits)
    {
        var name = raw.TrimEnd('/');
        if (name.Length == 0) throw new UnsafePathException(raw, "an entry has an empty name");
        if (name.Any(c => char.IsControl(c) || c == '\uFFFD'))
            throw new UnsafePathException(name, "the name contains control characters or is not UTF-8");
        if (name.StartsWith('/')) throw new UnsafePathException(name, "is an absolute path");
        var parts = name.Split('/');
        if (parts.Any(p => p is "" or "." or ".." || p == ".git"))
            throw new UnsafePathException(name, "has an empty, \".\", \"..\" or \".git\" part");
        if (parts.Length > limits.MaxPathDepth)
            throw new UnsafePathException(name, $"is deeper than {limits.MaxPathDepth} levels (Builder:Tree:MaxPathDepth)");
        if (Encoding.UTF8.GetByteCount(name) > limits.MaxPathLength)
            throw new UnsafePathException(name, $"is longer than {limits.MaxPathLength} bytes (Builder:Tree:MaxPathLength)");
        return name;
    }

    private static IEnumerable<string> Ancestors(string path)
    {
        for (var i = path.LastIndexOf('/'); i > 0; i = path.LastIndexOf('/', i - 1))
            yield return path[..i];
    }
}
