using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Reads the files the planner asks for from a directory holding a repository's files (the builder's checkout of
/// the triggering revision, or the working tree <c>slipway plan</c> is pointed at), always inside it.
/// </summary>
public static class RepositoryFiles
{
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// A file's text (null when there is none), resolved inside <paramref name="root"/> one path component at a time: a
    /// symbolic link that leaves it, a hard link, a fifo or device, or a file past <paramref name="maxBytes"/> is
    /// refused with <see cref="PipelineConfigException"/> naming the path.
    /// </summary>
    public static string? Read(string root, string relative, long maxBytes = MaxFileBytes)
    {
        try
        {
            return ContainedTree.ReadText(root, relative, maxBytes);
        }
        catch (UnsafePathException e)
        {
            throw new PipelineConfigException(e.Message, 0, relative);
        }
    }
}
