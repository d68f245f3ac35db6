namespace Slipway.Contracts;

/// <summary>
/// The rules of a <see cref="RunCopy"/>'s paths, checked where they are known: by the planner for written paths, by the
/// tester (and for <c>artifactURLs</c> by whoever resolves it) for paths holding runtime outputs once resolved. A source
/// is a path of the run container, relative to its root as <c>docker cp</c> takes it, normalized to <c>/a/b</c>; globs,
/// <c>..</c> and the root itself are refused. A destination is relative to the repository root (PipelineLib's
/// <c>sanitizeRelativePath</c> drops a leading <c>/</c>); <c>..</c> is refused where PipelineLib silently dropped it; a
/// trailing <c>/</c> (or the root) means "inside this directory" and is kept.
/// </summary>
public static class CopyPaths
{
    /// <summary>Longest path accepted.</summary>
    public const int MaxChars = 1024;

    /// <summary>The normalized source, or null with <paramref name="error"/> saying why (to follow the field's name).</summary>
    public static string? ContainerSource(string path, out string? error)
    {
        error = null;
        if (Problem(path) is { } problem) { error = problem; return null; }
        if (path.IndexOfAny(['*', '?', '[']) >= 0)
        {
            error = $"`{Shown(path)}` is a glob: the container's paths are copied as written (PipelineLib's `docker cp` did not expand globs either)";
            return null;
        }
        var segments = Segments(path);
        if (segments is null) { error = $"`{Shown(path)}` must not contain `..`"; return null; }
        if (segments.Count == 0) { error = "must name a file or directory below the container's root, not the root itself"; return null; }
        return "/" + string.Join('/', segments);
    }

    /// <summary>The normalized destination, or null with <paramref name="error"/> saying why (to follow the field's name).</summary>
    public static string? WorkspaceDestination(string path, out string? error)
    {
        error = null;
        if (Problem(path) is { } problem) { error = problem; return null; }
        var segments = Segments(path);
        if (segments is null) { error = $"`{Shown(path)}` must not contain `..`: a copy stays inside the workspace"; return null; }
        if (segments.Count == 0) return "./";
        var joined = string.Join('/', segments);
        return path.EndsWith('/') || path.EndsWith("/.", StringComparison.Ordinal) ? joined + "/" : joined;
    }

    private static string? Problem(string path) =>
        path.Length == 0 ? "is empty"
        : path.Length > MaxChars ? $"is longer than {MaxChars} characters"
        : path.Any(char.IsControl) ? $"`{Shown(path)}` contains control characters (a line break, e.g. the one that ends a stage's `output`)"
        : path.Contains('\\') ? $"`{Shown(path)}` must use `/` (a `\\` is refused)"
        : null;

    // The path's segments without empty ones and `.`; null when a segment is `..`.
    private static List<string>? Segments(string path)
    {
        var segments = new List<string>();
        foreach (var seg in path.Split('/'))
        {
            if (seg is "" or ".") continue;
            if (seg == "..") return null;
            segments.Add(seg);
        }
        return segments;
    }

    // A path in a message: one line (control characters as spaces), bounded.
    private static string Shown(string value)
    {
        var line = new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return line.Length > 128 ? line[..127] + "…" : line;
    }
}
