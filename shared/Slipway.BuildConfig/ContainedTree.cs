using System.Runtime.InteropServices;

namespace Slipway.BuildConfig;

/// <summary>What a directory entry is, read without following a symbolic link.</summary>
public enum TreeEntryKind { Missing, File, Directory, SymbolicLink, Fifo, Socket, CharacterDevice, BlockDevice, Unknown }

/// <summary>An entry's kind, hard-link count and size (<c>lstat</c>).</summary>
public readonly record struct TreeEntry(TreeEntryKind Kind, long Links, long Size);

/// <summary>
/// Symlink-safe access to a tree the builder does not trust (an exported revision, a build context): every path
/// is resolved one component at a time with <c>lstat</c>; a symbolic link is followed only while it stays inside
/// the tree's root, and one that leaves it (an absolute target, or <c>..</c> above the root, also through a chain
/// of links) refuses the path with a message naming the link. <c>..</c> is resolved physically, as the kernel
/// would, so <c>a/link/../..</c> cannot climb out through a link either.
/// </summary>
public static partial class ContainedTree
{
    private const int MaxLinkHops = 40; // Linux's own limit (ELOOP)

    /// <summary>The entry at <paramref name="fullPath"/>, not following a final symbolic link.</summary>
    public static TreeEntry Inspect(string fullPath)
    {
        if (OperatingSystem.IsLinux()) return InspectLinux(fullPath);
        // Elsewhere the runtime tells files, directories and links apart, but not special files or link counts.
        var info = new FileInfo(fullPath);
        if (info.LinkTarget is not null) return new TreeEntry(TreeEntryKind.SymbolicLink, 1, 0);
        if (info.Exists) return new TreeEntry(TreeEntryKind.File, 1, info.Length);
        return Directory.Exists(fullPath) ? new TreeEntry(TreeEntryKind.Directory, 1, 0) : new TreeEntry(TreeEntryKind.Missing, 0, 0);
    }

    /// <summary>
    /// The physical full path of <paramref name="relative"/> inside <paramref name="root"/>, every link on the way
    /// followed and checked. The result may not exist (the caller inspects it); it never lies outside the root.
    /// </summary>
    /// <param name="what">How the root is named in messages: "the repository", "the build context".</param>
    public static string Resolve(string root, string relative, string what = "the repository")
    {
        var rootFull = Path.GetFullPath(root).TrimEnd('/');
        if (relative.Any(char.IsControl)) throw new UnsafePathException(relative, "contains control characters");
        if (relative.StartsWith('/')) throw new UnsafePathException(relative, $"is an absolute path; only paths inside {what} are read");

        var resolved = new List<string>();
        // Each part still to resolve remembers the link whose target it came from (null: the path asked for), so a
        // ".." that climbs out is blamed on the link that wrote it.
        var todo = new LinkedList<(string Part, (string Path, string Target)? From)>(relative.Split('/').Select(p => (p, ((string, string)?)null)));
        var hops = 0;
        var missing = false;
        while (todo.First is { } first)
        {
            var (part, from) = first.Value;
            todo.RemoveFirst();
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (resolved.Count == 0)
                    throw new UnsafePathException(relative, from is { } l ? LinkMessage(relative, l.Path, l.Target, what) : $"leaves {what} (\"..\" above its root)");
                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var candidate = Join(rootFull, resolved, part);
            var entry = missing ? new TreeEntry(TreeEntryKind.Missing, 0, 0) : Inspect(candidate);
            if (entry.Kind == TreeEntryKind.SymbolicLink)
            {
                var linkPath = string.Join('/', [.. resolved, part]);
                if (++hops > MaxLinkHops) throw new UnsafePathException(relative, $"too many levels of symbolic links (at {linkPath})");
                var target = new FileInfo(candidate).LinkTarget ?? "";
                if (target.StartsWith('/'))
                    throw new UnsafePathException(relative, LinkMessage(relative, linkPath, target, what));
                // The target replaces the link, relative to the link's directory.
                var node = todo.First;
                foreach (var t in target.Split('/'))
                {
                    var item = (t, ((string, string)?)(linkPath, target));
                    if (node is null) todo.AddLast(item); else todo.AddBefore(node, item);
                }
                continue;
            }
            resolved.Add(part);
            // Below a missing entry or a non-directory nothing exists: the rest is resolved by name alone.
            if (entry.Kind != TreeEntryKind.Directory) missing = true;
        }
        return Join(rootFull, resolved, null);
    }

    /// <summary>
    /// The text of a regular file of the tree, or null when there is none at that path. Refuses links that leave
    /// the tree, hard links, fifos, sockets and devices (reading a fifo would block forever), and files past
    /// <paramref name="maxBytes"/>.
    /// </summary>
    public static string? ReadText(string root, string relative, long maxBytes, string what = "the repository")
    {
        var full = Resolve(root, relative, what);
        var entry = Inspect(full);
        switch (entry.Kind)
        {
            case TreeEntryKind.Missing: return null;
            case TreeEntryKind.Directory: throw new UnsafePathException(relative, "is a directory, not a file");
            case TreeEntryKind.File: break;
            default: throw new UnsafePathException(relative, $"is a {Describe(entry.Kind)}; only regular files are read");
        }
        if (entry.Links > 1) throw new UnsafePathException(relative, HardLinkMessage);
        if (entry.Size > maxBytes) throw new UnsafePathException(relative, $"file is larger than {maxBytes} bytes");
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        var buffer = new byte[Math.Min(maxBytes + 1, Math.Max(entry.Size + 1, 1))];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0) read += n;
        if (read > maxBytes) throw new UnsafePathException(relative, $"file is larger than {maxBytes} bytes");
        return new System.Text.UTF8Encoding(false).GetString(buffer, 0, read);
    }

    /// <summary>
    /// Throws unless <paramref name="fullPath"/> is, right now, a regular file with one name (never a fifo, device or
    /// hard link): checked again just before a listed file is read.
    /// </summary>
    public static void RequireRegularFile(string fullPath, string relative)
    {
        var entry = Inspect(fullPath);
        if (entry.Kind != TreeEntryKind.File)
            throw new UnsafePathException(relative, $"is a {Describe(entry.Kind)}, not a regular file");
        if (entry.Links > 1) throw new UnsafePathException(relative, HardLinkMessage);
    }

    public const string HardLinkMessage =
        "is a hard link (it has more than one name on the builder host); the tree may hold only files, directories and symbolic links inside it";

    public static string Describe(TreeEntryKind kind) => kind switch
    {
        TreeEntryKind.Fifo => "fifo (named pipe)",
        TreeEntryKind.Socket => "socket",
        TreeEntryKind.CharacterDevice => "character device",
        TreeEntryKind.BlockDevice => "block device",
        TreeEntryKind.SymbolicLink => "symbolic link",
        TreeEntryKind.Directory => "directory",
        TreeEntryKind.File => "file",
        TreeEntryKind.Missing => "missing entry",
        _ => "special file",
    };

    private static string LinkMessage(string relative, string linkPath, string target, string what) =>
        linkPath == relative
            ? $"is a symbolic link to \"{UnsafePathException.Printable(target)}\", outside {what}"
            : $"goes through the symbolic link {UnsafePathException.Printable(linkPath)} -> \"{UnsafePathException.Printable(target)}\", outside {what}";

    private static string Join(string root, List<string> parts, string? last)
    {
        var inner = string.Join('/', last is null ? parts : [.. parts, last]);
        return inner.Length == 0 ? root : root + "/" + inner;
    }

    // statx has one layout on every Linux architecture (unlike struct stat): mode at 28, nlink at 16, size at 40.
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    private static TreeEntry InspectLinux(string fullPath)
    {
        var buffer = new byte[256];
        if (Statx(AtFdCwd, fullPath, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20) return new TreeEntry(TreeEntryKind.Missing, 0, 0); // ENOENT, ENOTDIR
            throw new IOException($"cannot inspect {fullPath}: errno {errno}");
        }
        // The kernel writes the struct in the machine's own byte order.
        var mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(28));
        var links = MemoryMarshal.Read<uint>(buffer.AsSpan(16));
        var size = (long)MemoryMarshal.Read<ulong>(buffer.AsSpan(40));
        var kind = (mode & 0xF000) switch
        {
            0x8000 => TreeEntryKind.File,
            0x4000 => TreeEntryKind.Directory,
            0xA000 => TreeEntryKind.SymbolicLink,
            0x1000 => TreeEntryKind.Fifo,
            0xC000 => TreeEntryKind.Socket,
            0x2000 => TreeEntryKind.CharacterDevice,
            0x6000 => TreeEntryKind.BlockDevice,
            _ => TreeEntryKind.Unknown,
        };
        return new TreeEntry(kind, links, size);
    }
}
