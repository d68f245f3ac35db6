namespace Slipway.Pipeline.Planning;

/// <summary>
/// Paths from the config (blubberfile, context, directory) resolved inside the repository: the builder reads
/// and sends these to Docker, so an absolute path or a <c>..</c> that climbs out of the checkout is refused.
/// </summary>
public static class RepoPath
{
    /// <summary>
    /// <paramref name="path"/> joined to <paramref name="baseDir"/> (both relative to the repo root) and normalized
    /// to <c>a/b</c> form, or <c>.</c> for the root. Null with <paramref name="error"/> set when it leaves the repo.
    /// </summary>
    public static string? Resolve(string baseDir, string path, out string? error)
    {
        error = null;
        if (path.Length == 0) { error = "is empty"; return null; }
        if (path.Any(char.IsControl)) { error = "contains control characters"; return null; }
        if (path.StartsWith('/') || path.Contains('\\') || (path.Length >= 2 && path[1] == ':') || path.Contains("://"))
        {
            error = $"`{path}` must be a relative path inside the repository";
            return null;
        }
        var segments = new List<string>();
        foreach (var seg in (baseDir + "/" + path).Split('/'))
        {
            if (seg is "" or ".") continue;
            if (seg == "..")
            {
                if (segments.Count == 0) { error = $"`{path}` leads outside the repository"; return null; }
                segments.RemoveAt(segments.Count - 1);
            }
            else segments.Add(seg);
        }
        return segments.Count == 0 ? "." : string.Join('/', segments);
    }
}
