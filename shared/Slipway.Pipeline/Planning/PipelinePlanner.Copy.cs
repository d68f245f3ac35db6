using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's <c>copy</c> (<c>PipelineStage.defaultConfig</c> and <c>PipelineRunner.copyFilesFrom</c>): a source path
/// of a run container (relative to the container's root, so a leading <c>/</c> is optional), its <c>destination</c> in
/// the workspace (default: the source, made relative), <c>archive</c> (default false), and the shorthand of a bare source
/// string. <c>from</c> is this stage's run container (the default) or, as <c>${&lt;stage&gt;.container}</c>, the run
/// container of a stage that runs before this one (an ancestor in <c>execution</c>). PipelineLib keeps every container
/// until the pipeline ends; Slipway removes a run container after its step, so an entry naming an earlier stage's
/// container is carried on that stage's run step (<see cref="RunParams.CopyFor"/>) and copied when it exited 0: a stopped
/// container's files no longer change, so the files are the ones PipelineLib would copy later. The files still belong to
/// this stage. This stage's own entries travel with its run step: the tester copies once the entry point exited 0.
/// </summary>
internal sealed partial class PipelinePlanner
{
    // Entries naming an earlier stage's container, by that stage: attached to its run step once every stage is planned.
    private readonly Dictionary<string, List<StageCopy>> _copyFor = new(StringComparer.Ordinal);

    // Stages with copies out of their own run container (planned so far, in the graph's order: a referenced stage is an ancestor).
    private readonly HashSet<string> _stagesWithOwnCopies = new(StringComparer.Ordinal);

    /// <summary>
    /// The run step whose result lists <paramref name="stage"/>'s archived copies, for <c>${stage.artifactURLs}</c>: its own
    /// run step, or, for a stage whose <c>copy</c> entries all come out of one earlier stage's container,
    /// that stage's run step (which copies for it). PipelineLib lists the entries in the stage's order; copies split over
    /// several containers would be listed out of that order, so that is refused naming the field.
    /// </summary>
    private string ArtifactStepOf(string stage, string field, int line)
    {
        var sources = _copyFor.Where(kv => kv.Value.Any(g => g.Stage == stage)).Select(kv => kv.Key).ToList();
        if (sources.Count == 0) return $"{stage}-run";
        var own = _stagesWithOwnCopies.Contains(stage);
        if (sources.Count == 1 && !own) return $"{sources[0]}-run";
        var containers = (own ? [stage] : new List<string>()).Concat(sources).Select(c => $"`{c}`");
        throw new PipelineConfigException($"`{field}` uses `${{{stage}.artifactURLs}}`, and stage `{stage}` copies out of more than one " +
            $"run container ({string.Join(", ", containers)}): Slipway lists the archived copies of one container per stage", line);
    }

    /// <summary>This stage's entries that copy out of its own run container; the others are kept for their source stages.</summary>
    private IReadOnlyList<RunCopy> Copy(string s, ConfigValue raw, bool stageRuns, Interpolator interp)
    {
        var list = raw as ConfigList ?? Field("copy", raw.Line, () => interp.Interpolate(raw)) as ConfigList
            ?? throw new PipelineConfigException("`copy` must be a list", raw.Line);
        if (list.Items.Count > RunCopy.MaxEntries)
            throw new PipelineConfigException($"`copy` has more than {RunCopy.MaxEntries} entries", raw.Line);
        var copies = new List<RunCopy>();
        var fromOthers = new Dictionary<string, List<RunCopy>>(StringComparer.Ordinal);
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
            var fromStage = m.Get("from") is { } from ? FromStage(s, key, from, interp) : s;
            // copy[].from defaults to ${.container}: the container of this stage's run step, which must exist.
            if (fromStage == s && !stageRuns)
                throw new PipelineConfigException($"`copy` copies files out of this stage's run container (`${{.container}}`), and stage `{s}` has no `run`",
                    m.Get("from")?.Line ?? item.Line);
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
            var copy = new RunCopy { Source = source, Destination = destination, Archive = archive };
            if (fromStage == s) copies.Add(copy);
            else (fromOthers.TryGetValue(fromStage, out var l) ? l : fromOthers[fromStage] = []).Add(copy);
        }
        foreach (var (other, entries) in fromOthers)
        {
            var groups = _copyFor.TryGetValue(other, out var g) ? g : _copyFor[other] = [];
            if (groups.Count >= StageCopy.MaxStages)
                throw new PipelineConfigException($"more than {StageCopy.MaxStages} stages copy out of stage `{other}`'s run container", raw.Line);
            groups.Add(new StageCopy { Stage = s, Copy = entries });
        }
        _store.BindRuntime(s, "artifactURLs");
        if (copies.Count > 0) _stagesWithOwnCopies.Add(s);
        return copies;
    }

    /// <summary>
    /// The stage whose run container <c>copy[i].from</c> names: this stage (<c>${.container}</c>) or one that runs
    /// before it. A stage that does not run before this one, or has no <c>run</c>, is refused naming why.
    /// </summary>
    private string FromStage(string s, string key, ConfigValue from, Interpolator interp)
    {
        if (from is ConfigScalar { Value: string text } && ContainerReference().Match(text.Trim()) is { Success: true } named)
        {
            var stage = named.Groups[1].Value.Length == 0 ? s : named.Groups[1].Value;
            if (stage == s) return s; // this stage's own container: the caller checks that it runs
            if (!_graph.Contains(stage))
                throw new PipelineConfigException($"`{key}.from` (`{text}`) names stage `{stage}`, which is not a stage of this pipeline's `execution`", from.Line);
            if (stage != s && !_graph.Ancestors(s).Contains(stage))
                throw new PipelineConfigException($"`{key}.from` (`{text}`): stage `{stage}` must run before stage `{s}` " +
                    $"(come before it in `execution`) for `{s}` to copy out of its run container", from.Line);
            if (stage != s && !_store.TryGet(stage, "container", out _))
                throw new PipelineConfigException($"`{key}.from` (`{text}`): stage `{stage}` has no `run`, so it has no run container to copy from", from.Line);
        }
        var f = Field($"{key}.from", from.Line, () => interp.Interpolate(from), allowWholeRuntime: true);
        return f is ConfigRuntime { Key: "container", Default: null } r && (r.Stage == s || _graph.Ancestors(s).Contains(r.Stage)) ? r.Stage
            : throw new PipelineConfigException($"`{key}.from` must be a run container: this stage's (`${{.container}}`) or that of a stage that runs before it (`${{<stage>.container}}`)", from.Line);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\$\{([A-Za-z0-9._-]*)\.container\}\z")]
    private static partial System.Text.RegularExpressions.Regex ContainerReference();

    /// <summary>Each stage's run step gets the later stages' entries that copy out of its container.</summary>
    private void AttachCopiesFromEarlierStages(Dictionary<string, PlanStage> planned)
    {
        foreach (var (source, groups) in _copyFor)
        {
            var stage = planned[source];
            var run = stage.Steps.Single(x => x.Kind == StepKind.Test); // FromStage checked that it runs
            var steps = stage.Steps.Select(x => x == run ? run with { Run = run.Run! with { CopyFor = groups } } : x).ToList();
            planned[source] = stage with { Steps = steps };
        }
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
