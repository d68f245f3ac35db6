using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's <c>copy</c> (<c>PipelineStage.defaultConfig</c> and <c>PipelineRunner.copyFilesFrom</c>): a source path
/// of the stage's run container (relative to the container's root, so a leading <c>/</c> is optional), its
/// <c>destination</c> in the workspace (default: the source, made relative), <c>archive</c> (default false), and the
/// shorthand of a bare source string. Carried on the stage's run step: the tester copies once the entry point exited 0.
/// </summary>
internal sealed partial class PipelinePlanner
{
    private IReadOnlyList<RunCopy> Copy(string s, ConfigValue raw, bool stageRuns, Interpolator interp)
    {
        // copy[].from defaults to ${.container}: the container of this stage's run step, which must exist.
        if (!stageRuns)
            throw new PipelineConfigException($"`copy` copies files out of this stage's run container (`${{.container}}`), and stage `{s}` has no `run`", raw.Line);
        var list = raw as ConfigList ?? Field("copy", raw.Line, () => interp.Interpolate(raw)) as ConfigList
            ?? throw new PipelineConfigException("`copy` must be a list", raw.Line);
        if (list.Items.Count > RunCopy.MaxEntries)
            throw new PipelineConfigException($"`copy` has more than {RunCopy.MaxEntries} entries", raw.Line);
        var copies = new List<RunCopy>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            var key = $"copy[{i}]";
            if (item is ConfigMap { } expr && expr.Entries.Count > 0 && expr.Entries.All(e => e.Key.StartsWith('$')))
                item = Field(key, item.Line, () => interp.Interpolate(expr));
            ConfigMap m = item switch
            {
                ConfigScalar => new ConfigMap([new ConfigEntry("source", item.Line, item)], item.Line),
                ConfigMap map => map,
                _ => throw new PipelineConfigException($"`{key}` must be a source path or a mapping with `source`", item.Line),
            };
            if (m.Get("from") is { } from)
            {
                var f = Field($"{key}.from", from.Line, () => interp.Interpolate(from), allowWholeRuntime: true);
                if (f is not ConfigRuntime { Key: "container" } r || r.Stage != s)
                    throw new PipelineConfigException($"`{key}.from` may only be this stage's run container (`${{.container}}`): Slipway keeps no other stage's container", from.Line);
            }
            var sourceNode = m.Get("source") ?? throw new PipelineConfigException($"`{key}.source` is required", m.Line);
            var sourceText = Text(Field($"{key}.source", sourceNode.Line, () => interp.Interpolate(sourceNode)), $"{key}.source");
            var source = ContainerSource(sourceText, out var error)
                ?? throw new PipelineConfigException($"`{key}.source` {error}", sourceNode.Line);
            var destinationNode = m.Get("destination");
            var destinationText = destinationNode is null ? sourceText
                : Text(Field($"{key}.destination", destinationNode.Line, () => interp.Interpolate(destinationNode)), $"{key}.destination");
            var destination = WorkspaceDestination(destinationText, out error)
                ?? throw new PipelineConfigException($"`{key}.destination` {error}", (destinationNode ?? sourceNode).Line);
            var archive = false;
            if (m.Get("archive") is { } archiveNode)
                archive = Field($"{key}.archive", archiveNode.Line, () => interp.Interpolate(archiveNode)) is ConfigScalar { Value: bool b }
                    ? b : throw new PipelineConfigException($"`{key}.archive` must be true or false", archiveNode.Line);
            copies.Add(new RunCopy { Source = source, Destination = destination, Archive = archive });
        }
        _store.BindRuntime(s, "artifactURLs");
        return copies;
    }

    /// <summary>
    /// A path of the container, relative to its root as <c>docker cp</c> takes it: normalized to <c>/a/b</c>. Globs are
    /// refused (PipelineLib's <c>docker cp</c> never expanded them), and so are <c>..</c> and the root itself.
    /// </summary>
    internal static string? ContainerSource(string path, out string? error)
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

    /// <summary>
    /// Where a copy lands, relative to the repository root (PipelineLib's <c>sanitizeRelativePath</c> drops a leading
    /// <c>/</c>). Slipway refuses <c>..</c> where PipelineLib silently dropped it. A trailing <c>/</c> (or the root) means
    /// "inside this directory" and is kept.
    /// </summary>
    internal static string? WorkspaceDestination(string path, out string? error)
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
        : path.Length > 1024 ? "is longer than 1024 characters"
        : path.Any(char.IsControl) ? "contains control characters"
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
}
