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

    /// <summary>
    /// This stage's entries that copy out of its own run container (the others are kept for their source stages), and the
    /// templates of those whose <c>source</c> or <c>destination</c> hold runtime outputs (PipelineLib interpolated the copy
    /// list when the stage ran): keyed <c>copy[i].source</c> / <c>copy[i].destination</c> by the entry's index in the run
    /// step's <c>copy</c>; the tester resolves and checks them with <see cref="CopyPaths"/> after the entry point exited 0.
    /// </summary>
    private (IReadOnlyList<RunCopy> Copies, IReadOnlyDictionary<string, RuntimeTemplate>? Runtime) Copy(string s, ConfigValue raw, bool stageRuns, Interpolator interp)
    {
        var list = raw as ConfigList ?? Field("copy", raw.Line, () => interp.Interpolate(raw)) as ConfigList
            ?? throw new PipelineConfigException("`copy` must be a list", raw.Line);
        if (list.Items.Count > RunCopy.MaxEntries)
            throw new PipelineConfigException($"`copy` has more than {RunCopy.MaxEntries} entries", raw.Line);
        var copies = new List<RunCopy>();
        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
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
            var fromStage = Elvis(m.Get("from")) is { } from ? FromStage(s, key, from, interp) : s;
            // copy[].from defaults to ${.container}: the container of this stage's run step, which must exist.
            if (fromStage == s && !stageRuns)
                throw new PipelineConfigException($"`copy` copies files out of this stage's run container (`${{.container}}`), and stage `{s}` has no `run`",
                    m.Get("from")?.Line ?? item.Line);
            var sourceNode = m.Get("source") ?? throw new PipelineConfigException($"`{key}.source` is required", m.Line);
            var destinationNode = Elvis(m.Get("destination")); // `destination ?: source`, `from ?: ${.container}`
            var own = $"copy[{copies.Count}]"; // the key of this entry's templates, if it copies out of this stage's container
            var sourceValue = CopyPath($"{key}.source", sourceNode, fromStage == s ? null : fromStage, interp);
            string source, destination;
            if (IsRuntime(sourceValue))
            {
                source = runtime.Add($"{own}.source", sourceValue, sourceNode.Line, $"{key}.source");
                // PipelineLib's destination defaults to the source: the same template, made relative when resolved.
                if (destinationNode is null) runtime.Add($"{own}.destination", sourceValue, sourceNode.Line, $"{key}.source");
            }
            else
            {
                source = CopyPaths.ContainerSource(Text(sourceValue, $"{key}.source"), out var error)
                    ?? throw new PipelineConfigException($"`{key}.source` {error}", sourceNode.Line);
            }
            var destinationValue = destinationNode is null ? sourceValue : CopyPath($"{key}.destination", destinationNode, fromStage == s ? null : fromStage, interp);
            if (IsRuntime(destinationValue))
            {
                destination = destinationNode is null ? source : runtime.Add($"{own}.destination", destinationValue, destinationNode.Line, $"{key}.destination");
            }
            else
            {
                destination = CopyPaths.WorkspaceDestination(Text(destinationValue, $"{key}.destination"), out var error)
                    ?? throw new PipelineConfigException($"`{key}.destination` {error}", (destinationNode ?? sourceNode).Line);
            }
            if (source.Length > CopyPaths.MaxChars || destination.Length > CopyPaths.MaxChars)
                throw new PipelineConfigException($"`{key}`: a path is longer than {CopyPaths.MaxChars} characters", item.Line);
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
        return (copies, runtime.OrNull);
    }

    /// <summary>
    /// A copy path interpolated, runtime outputs left in it: allowed in an entry that copies out of this stage's own
    /// container (resolved by the tester when it copies), refused in one that copies out of an earlier stage's
    /// (<paramref name="otherStage"/>): that copy is taken when the earlier stage's run step ends, before this stage's
    /// values exist.
    /// </summary>
    private static ConfigValue CopyPath(string field, ConfigValue node, string? otherStage, Interpolator interp)
    {
        var value = Interpolated(field, node.Line, () => interp.Interpolate(node));
        if (otherStage is not null && FindRuntime(value) is { } r)
            throw new PipelineConfigException($"`{field}` uses `${{{r.Reference}}}`, and the entry copies out of stage `{otherStage}`'s run container: " +
                $"Slipway takes that copy when `{otherStage}`'s run step ends, so its paths must be known when the run is planned " +
                "(runtime outputs are resolved only in copies out of this stage's own container)", node.Line);
        return value;
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
}
