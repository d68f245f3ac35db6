using Slipway.BuildConfig;

namespace Slipway.Builder.Git;

/// <summary>
/// The revision's content is refused (a link leaving the tree, a special file, a limit exceeded): not a failure to
/// retry, the same revision is refused every time. The message names the path.
/// </summary>
public sealed class RevisionRefusedException(UnsafePathException inner)
    : GitCheckoutException($"the revision is refused: {inner.Message}", inner)
{
    public string Path => inner.Path;
}
