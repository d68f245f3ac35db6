namespace Slipway.BuildConfig;

/// <summary>A variant with its includes and the top level merged in (blubber-v4 §6).</summary>
public sealed record ExpandedVariant(string Name, CommonConfig Common, IReadOnlyList<Artifact> Copies, int Line)
{
    public string WorkingDirectory => Common.Lives.In ?? "/srv/app";
    public bool IsScratch => string.IsNullOrEmpty(Common.Base);
}

/// <summary>The target variant and the variants it copies from, leaves first (the stages to build).</summary>
public sealed record ExpandedConfig(BlubberConfig Config, ExpandedVariant Target, IReadOnlyList<ExpandedVariant> Stages);

/// <summary>Includes and copies expansion, merge rules and the checks that need merged values.</summary>
public static class Expander
{
    public static ExpandedConfig Expand(BlubberConfig config, string variant)
    {
        var root = Merge.Common(CommonConfig.Defaults, config.Common);
        var byName = config.Variants.ToDictionary(v => v.Name);
        var cache = new Dictionary<string, ExpandedVariant>();

        ExpandedVariant ExpandOne(string name)
        {
            if (cache.TryGetValue(name, out var done)) return done;
            var order = GraphOrder(name, n => byName.TryGetValue(n, out var v) ? v.Includes.Select(i => i.Value).Where(byName.ContainsKey) : [],
                byName.ContainsKey, "includes");
            var common = root;
            var copies = new List<Artifact>();
            foreach (var n in order) // deepest first, the variant itself last
            {
                var v = byName[n];
                common = Merge.Common(common, v.Common);
                copies = Merge.Copies(copies, v.Copies);
            }
            var expanded = new ExpandedVariant(name, common with { Line = byName[name].Line }, copies, byName[name].Line);
            Validate(expanded);
            return cache[name] = expanded;
        }

        var target = ExpandOne(variant);
        // Copies graph, built from expanded variants so inherited copies count (T289880).
        var stageOrder = GraphOrder(variant, n => Dependencies(ExpandOne(n), byName.ContainsKey), byName.ContainsKey, "copies");
        return new ExpandedConfig(config, target, stageOrder.Select(ExpandOne).ToList());
    }

    /// <summary>Variants a variant reads files from: copies, requirements and builder mounts whose <c>from</c> is a defined variant.</summary>
    public static IEnumerable<string> Dependencies(ExpandedVariant v, Func<string, bool> isVariant)
    {
        var mounts = (v.Common.Builders ?? []).Select(b => b.Custom).Append(v.Common.Builder).SelectMany(b => b?.Mounts ?? []).Select(m => m.From);
        var froms = v.Copies.Select(a => a.From)
            .Concat(ConfigParser.Requirements(v.Common).SelectMany(r => r.Requirements ?? []).Select(a => a.From))
            .Concat(mounts);
        return froms.Where(f => f != Artifact.Local && isVariant(f)).Distinct();
    }

    /// <summary>
    /// The names a variant refers to as written (before merging): its includes, and the <c>from</c> of its copies,
    /// requirements and builder mounts; with <paramref name="common"/> the top level's, which every variant inherits.
    /// Some may be images rather than variants; <c>local</c> is left out.
    /// </summary>
    public static IEnumerable<string> References(VariantConfig v, CommonConfig? common = null)
    {
        static IEnumerable<string> Of(CommonConfig c) =>
            ConfigParser.Requirements(c).SelectMany(r => r.Requirements ?? []).Select(a => a.From)
                .Concat((c.Builders ?? []).Select(b => b.Custom).Append(c.Builder).SelectMany(b => b?.Mounts ?? []).Select(m => m.From));
        var names = v.Includes.Select(i => i.Value).Concat(v.Copies.Select(a => a.From)).Concat(Of(v.Common));
        if (common is not null) names = names.Concat(Of(common));
        return names.Where(n => n != Artifact.Local).Distinct();
    }

    /// <summary>Depth-first, leaves first, duplicates at their first position; cycles and unknown names refused.</summary>
    internal static List<string> GraphOrder(string start, Func<string, IEnumerable<string>> edges, Func<string, bool> exists, string what)
    {
        var order = new List<string>();
        var visiting = new HashSet<string>();
        void Visit(string n)
        {
            if (order.Contains(n)) return;
            if (!visiting.Add(n))
                throw new BlubberException(BlubberErrorKind.Expansion, $"processing {what} for variant '{start}': Detected dependency graph cycle at '{n}'");
            foreach (var e in edges(n)) Visit(e);
            visiting.Remove(n);
            order.Add(n);
        }
        if (!exists(start))
            throw new BlubberException(BlubberErrorKind.Expansion, $"processing {what} for variant '{start}': There is no key '{start}' in the dependency graph");
        Visit(start);
        return order;
    }

    internal static bool IsZero(NodeBuilder? b) => b is null || b is { Requirements: null, Env: null or "", UseNpmCi: null, AllowDedupeFailure: null };
    internal static bool IsZero(PhpBuilder? b) => b is null || b is { Requirements: null, Production: null };
    internal static bool IsZero(CustomBuilder? b) => b is null || b is { ShellCommand: null or "", Command: null, Script: null or "", Requirements: null, Mounts: null, Caches: null };
    internal static bool IsZero(PythonBuilder? b) => b is null || b is
    {
        Version: null or "", Requirements: null, UseSystemSitePackages: null, NoDeps: null, Venv: null or "", PipVersion: null or "",
        SetuptoolsVersion: null or "", ToxVersion: null or "", WheelVersion: null or "",
    } && b.Poetry is null or { Version: null or "", Devel: null, Only: null, Without: null };

    // Rules that fire on merged values (blubber-v4 §6 step 5).
    private static void Validate(ExpandedVariant v)
    {
        var c = v.Common;
        var path = $"variants.{v.Name}";
        // notallowedwith: a non-empty builders list with any standalone builder that is not Go's zero value (`node: {}` is).
        if (c.Builders is { Count: > 0 } && !(IsZero(c.Node) && IsZero(c.Php) && IsZero(c.Python) && IsZero(c.Builder)))
            throw new BlubberException(BlubberErrorKind.Validation,
                "builders: is not allowed if any of field(s) \"node php python builder\" is declared/included", path, v.Line);
        foreach (var b in (c.Builders ?? []).Select(b => b.Custom).Append(c.Builder))
            if (b is not null && b.HasCommand && b.Script is not null)
                throw new BlubberException(BlubberErrorKind.Validation,
                    "command: is not allowed if any of field(s) \"script\" is declared/included", path, b.Line);
        var repeated = (c.Builders ?? []).Where(b => b.Kind != "custom").GroupBy(b => b.Kind).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new BlubberException(BlubberErrorKind.Validation, "builders: contains disallowed repetitions of entries", path, v.Line);
    }
}

/// <summary>Blubber's per-key merge rules: the later (more specific) side over the earlier one.</summary>
public static class Merge
{
    public static CommonConfig Common(CommonConfig a, CommonConfig b) => new(
        string.IsNullOrEmpty(b.Base) ? a.Base : b.Base,
        Union(a.Arguments, b.Arguments),
        Apt(a.Apt, b.Apt),
        Builders(a.Builders, b.Builders),
        Opt(a.Node, b.Node, Node),
        Opt(a.Php, b.Php, Php),
        Opt(a.Python, b.Python, Python),
        Opt(a.Builder, b.Builder, Custom),
        new LivesConfig(Str(a.Lives.In, b.Lives.In), Str(a.Lives.As, b.Lives.As), Num(a.Lives.Uid, b.Lives.Uid), Num(a.Lives.Gid, b.Lives.Gid)),
        new RunsConfig(Str(a.Runs.As, b.Runs.As), Num(a.Runs.Uid, b.Runs.Uid), Num(a.Runs.Gid, b.Runs.Gid), Str(a.Runs.In, b.Runs.In),
            b.Runs.Insecurely ?? a.Runs.Insecurely, Union(a.Runs.Environment, b.Runs.Environment)),
        b.Entrypoint ?? a.Entrypoint,
        b.Line);

    /// <summary>Additive; an earlier entry equal to a later one is dropped so the later keeps its position.</summary>
    public static List<Artifact> Copies(IReadOnlyList<Artifact> a, IReadOnlyList<Artifact> b)
    {
        var later = b.Select(x => x.Key).ToHashSet();
        return a.Where(x => !later.Contains(x.Key)).Concat(b).ToList();
    }

    /// <summary>
    /// Predefined builders on both sides merge field by field and take the later position; builders only
    /// on the earlier side (and all earlier custom ones) come first, in their order.
    /// </summary>
    public static IReadOnlyList<BuilderEntry>? Builders(IReadOnlyList<BuilderEntry>? a, IReadOnlyList<BuilderEntry>? b)
    {
        if (a is null) return b;
        if (b is null) return a;
        var laterKinds = b.Where(x => x.Kind != "custom").Select(x => x.Kind).ToHashSet();
        var result = a.Where(x => x.Kind == "custom" || !laterKinds.Contains(x.Kind)).ToList();
        foreach (var x in b)
        {
            var earlier = x.Kind == "custom" ? null : a.FirstOrDefault(e => e.Kind == x.Kind);
            result.Add(earlier is null ? x : new BuilderEntry(Opt(earlier.Node, x.Node, Node), Opt(earlier.Php, x.Php, Php),
                Opt(earlier.Python, x.Python, Python), null, x.Line));
        }
        return result;
    }

    public static NodeBuilder Node(NodeBuilder a, NodeBuilder b) =>
        new(b.Requirements ?? a.Requirements, b.Env ?? a.Env, b.UseNpmCi ?? a.UseNpmCi, b.AllowDedupeFailure ?? a.AllowDedupeFailure, b.Line);

    public static PhpBuilder Php(PhpBuilder a, PhpBuilder b) => new(b.Requirements ?? a.Requirements, b.Production ?? a.Production, b.Line);

    public static PythonBuilder Python(PythonBuilder a, PythonBuilder b) => new(
        Str(a.Version, b.Version), b.Requirements ?? a.Requirements, b.UseSystemSitePackages ?? a.UseSystemSitePackages,
        b.NoDeps ?? a.NoDeps, Opt(a.Poetry, b.Poetry, (x, y) => new PoetryConfig(y.Version ?? x.Version, y.Devel ?? x.Devel, y.Only ?? x.Only, y.Without ?? x.Without)),
        Str(a.Venv, b.Venv), Str(a.PipVersion, b.PipVersion), Str(a.SetuptoolsVersion, b.SetuptoolsVersion),
        Str(a.ToxVersion, b.ToxVersion), Str(a.WheelVersion, b.WheelVersion), b.Line);

    public static CustomBuilder Custom(CustomBuilder a, CustomBuilder b)
    {
        // command (either form) and script replace as one "what runs" field each.
        var command = b.HasCommand ? (b.ShellCommand, b.Command) : (a.ShellCommand, a.Command);
        return new CustomBuilder(command.ShellCommand, command.Command, b.Script ?? a.Script, b.Requirements ?? a.Requirements,
            b.Mounts ?? a.Mounts, b.Caches ?? a.Caches, b.Line);
    }

    private static AptConfig Apt(AptConfig a, AptConfig b)
    {
        var packages = a.Packages.Select(p => new KeyValuePair<string, List<string>>(p.Key, p.Value.ToList())).ToList();
        foreach (var (rel, list) in b.Packages)
        {
            var i = packages.FindIndex(p => p.Key == rel);
            if (i < 0) packages.Add(new(rel, list.ToList()));
            else packages[i].Value.AddRange(list);
        }
        return new AptConfig(packages.Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Key, p.Value)).ToList(),
            a.Sources.Concat(b.Sources).ToList(), a.Proxies.Concat(b.Proxies).ToList());
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Union(IReadOnlyList<KeyValuePair<string, string>> a, IReadOnlyList<KeyValuePair<string, string>> b)
    {
        var result = a.ToList();
        foreach (var kv in b)
        {
            var i = result.FindIndex(x => x.Key == kv.Key);
            if (i < 0) result.Add(kv); else result[i] = kv;
        }
        return result;
    }

    private static T? Opt<T>(T? a, T? b, Func<T, T, T> merge) where T : class => a is null ? b : b is null ? a : merge(a, b);
    private static string? Str(string? a, string? b) => string.IsNullOrEmpty(b) ? a : b;
    private static uint? Num(uint? a, uint? b) => b is null or 0 ? a : b;
}
