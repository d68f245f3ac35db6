namespace Slipway.BuildConfig;

/// <summary>
/// A path of a repository or build context that the builder refuses to read or send: a symbolic link that leaves
/// the tree, a hard link, a fifo, socket or device, a name with control characters, or a tree past its limits.
/// The message starts with the offending path.
/// </summary>
public sealed class UnsafePathException(string path, string reason) : Exception($"{Printable(path)}: {reason}")
{
    /// <summary>The offending path, relative to the tree.</summary>
    public string Path { get; } = path;

    /// <summary>The path with control characters shown as <c>?</c>, at most 300 characters, fit for a message.</summary>
    public static string Printable(string s) =>
        new(s.Take(300).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
