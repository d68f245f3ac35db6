namespace Slipway.BuildConfig;

/// <summary>
/// YAML text → <see cref="BlubberConfig"/>, strictly (unknown keys refused) and with every
/// per-field rule of blubber-v4 §9 checked where the value is read, so errors carry its key
/// path and line. Rules that need the whole document (variant references) run at the end.
/// </summary>
public static partial class ConfigParser
{
    public const string CurrentVersion = "v4";

    private static readonly string[] CommonKeys =
        ["base", "arguments", "apt", "builder", "builders", "node", "php", "python", "lives", "runs", "entrypoint"];
    private static readonly string[] TopKeys = ["version", "variants", .. CommonKeys];
    private static readonly string[] VariantKeys = ["includes", "copies", .. CommonKeys];

    // What the file's `# syntax=` line pins and the warnings so far; per parse, on the parsing thread only.
    [ThreadStatic] private static ParseState? _state;

    private sealed class ParseState(BlubberSyntax? syntax)
    {
        /// <summary>The pinned frontend, when PipelineLib builds with it; null when the file pins none or one it replaces.</summary>
        public BlubberSyntax? Syntax { get; } = syntax is { PipelineLibAllows: true } ? syntax : null;

        /// <summary>A <c># syntax=</c> Blubber frontend that PipelineLib replaces with its default.</summary>
        public BlubberSyntax? Replaced { get; } = syntax is { PipelineLibAllows: false } ? syntax : null;

        public List<string> Warnings { get; } = [];

        /// <summary>Parsing an entry of a <c>builders</c> list (which Blubber did not validate before v1.3.0).</summary>
        public bool InBuildersList { get; set; }
    }

    public static BlubberConfig Parse(string yaml, Limits? limits = null)
    {
        var outer = _state;
        _state = new ParseState(BlubberSyntax.Read(yaml));
        if (_state.Replaced is { } replaced)
            _state.Warnings.Add($"# syntax= names {replaced.Image}, which PipelineLib does not build with (it allows only " +
                $"{string.Join(" and ", BlubberVersions.PipelineLibFrontends.Order(StringComparer.Ordinal))}); it used its default frontend, " +
                $"Blubber v{BlubberVersions.PipelineLibDefault.ToString(3)}, so the file is validated as that version validated it");
        try
        {
            var config = ParseDocument(yaml, limits ?? Limits.Default);
            return config with { Syntax = _state.Syntax, Warnings = _state.Warnings.ToList() };
        }
        finally
        {
            _state = outer;
        }
    }

    /// <summary>Why the file counts as validated by <see cref="ValidatedBy"/>: its pin, or PipelineLib's default frontend.</summary>
    private static string ValidatedByReason => _state?.Syntax is { } pin ? $"this file pins {pin.VersionText}"
        : _state?.Replaced is not null
            ? $"PipelineLib replaces the frontend its `# syntax=` line names with its default, Blubber v{BlubberVersions.PipelineLibDefault.ToString(3)}"
            : $"this file has no `# syntax=` line, so PipelineLib builds it with its default frontend, Blubber v{BlubberVersions.PipelineLibDefault.ToString(3)}";

    /// <summary>A key added to Blubber after the version the file pins: accepted (as current Blubber does), with a warning.</summary>
    private static void Since(YNode at, string key)
    {
        if (_state?.Syntax?.Version is not { } pinned || !BlubberVersions.Introduced.TryGetValue(key, out var added) || pinned >= added) return;
        _state.Warnings.Add($"{at.Path} (line {at.Line}): \"{key}\" was added in Blubber v{added.ToString(3)}; the pinned {_state.Syntax.VersionText} would refuse it, Slipway accepts it as current Blubber does");
    }

    private static BlubberConfig ParseDocument(string yaml, Limits limits)
    {
        var root = YNode.Load(yaml, limits);
        if (!root.IsMap) throw root.Fail(BlubberErrorKind.Parse, "config must be a YAML mapping");
        var entries = root.Map();

        // Blubber checks the version before the strict decode.
        var versionNode = entries.FirstOrDefault(e => e.Key == "version").Value;
        if (versionNode is null || versionNode.IsNull) throw new BlubberException(BlubberErrorKind.Validation, "version: is required");
        var version = versionNode.IsScalar ? versionNode.Str() : "";
        if (version != CurrentVersion)
            throw versionNode.Fail(BlubberErrorKind.Validation, $"version: config version \"{version}\" is unsupported");

        root.Fields(TopKeys);
        var common = ParseCommon(root, entries, root.Line);
        var variants = new List<VariantConfig>();
        if (entries.FirstOrDefault(e => e.Key == "variants").Value is { IsNull: false } vn)
        {
            var vs = vn.Map();
            if (vs.Count > limits.MaxVariants)
                throw vn.Fail(BlubberErrorKind.Validation, $"variants: more than {limits.MaxVariants} variants");
            foreach (var (name, node) in vs)
            {
                if (!Validators.IsVariantName(name)) throw node.Fail(BlubberErrorKind.Validation, "variants: contains a bad variant name");
                variants.Add(ParseVariant(name, node));
            }
        }
        var config = new BlubberConfig(version, common, variants);
        CheckReferences(config);
        return config;
    }

    private static VariantConfig ParseVariant(string name, YNode node)
    {
        if (node.IsNull) return new VariantConfig(name, CommonConfig.Empty(node.Line), [], [], node.Line);
        var entries = node.Fields(VariantKeys);
        var includes = new List<Located<string>>();
        var copies = new List<Artifact>();
        foreach (var (key, value) in entries)
        {
            if (value.IsNull) continue;
            if (key == "includes") includes.AddRange(value.List().Select(i => new Located<string>(i.Str(), i.Line)));
            else if (key == "copies") copies.AddRange(ParseCopies(value));
        }
        return new VariantConfig(name, ParseCommon(node, entries, node.Line), includes, copies, node.Line);
    }

    private static CommonConfig ParseCommon(YNode parent, IReadOnlyList<(string Key, YNode Value)> entries, int line)
    {
        var c = CommonConfig.Empty(line);
        foreach (var (key, v) in entries)
        {
            if (v.IsNull) continue;
            c = key switch
            {
                "base" => c with { Base = ParseBase(v) },
                "arguments" => Since(v, "arguments", c with { Arguments = ParseEnvMap(v) }),
                "apt" => c with { Apt = ParseApt(v) },
                "builders" => c with { Builders = ParseBuilders(v) },
                "node" => c with { Node = ParseNode(v) },
                "php" => c with { Php = ParsePhp(v) },
                "python" => c with { Python = ParsePython(v) },
                "builder" => c with { Builder = ParseCustom(v) },
                "lives" => c with { Lives = ParseLives(v) },
                "runs" => c with { Runs = ParseRuns(v) },
                "entrypoint" => c with { Entrypoint = v.List().Select(x => x.StrAny()).ToList() }, // exec form: JSON-escaped
                _ => c,
            };
        }
        return c;
    }

    /// <summary>A refusal where Blubber would accept the value: says so, and why (docs/blubber.md "Stricter than Blubber").</summary>
    internal static BlubberException Stricter(YNode at, string message, string why) =>
        at.Fail(BlubberErrorKind.Validation, $"{message} ({YNode.StricterThanBlubber}: {why})");

    private const string ShellWhy = "the value is double-quoted in a shell command of a step that has network access, where $ and ` would run commands";

    private static string NoShellExpansion(YNode n, string s)
    {
        if (Validators.HasShellExpansion(s)) throw Stricter(n, $"{n.Key}: \"{s}\" must not contain \"$\" or \"`\"", ShellWhy);
        return s;
    }

    private static T Since<T>(YNode at, string key, T value)
    {
        Since(at, key);
        return value;
    }

    private static string ParseBase(YNode v)
    {
        var s = v.Str();
        if (s.Length > 0 && !Validators.IsImageRef(s)) throw v.Invalid($"\"{s}\" is not a valid image reference");
        return s;
    }

    private static List<KeyValuePair<string, string>> ParseEnvMap(YNode v)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (k, val) in v.Map())
        {
            if (!Validators.IsEnvVarName(k)) throw v.Invalid("contains invalid environment variable names");
            result.Add(new(k, val.IsNull ? "" : val.Str()));
        }
        return result;
    }

    private const string MountWhy = "the value is written into a RUN --mount flag, whose comma-separated fields it would split";

    // Variant references: includes, and from of copies/requirements, need the whole document.
    private static void CheckReferences(BlubberConfig config)
    {
        var names = config.Variants.Select(v => v.Name).ToHashSet();
        void CheckFrom(IEnumerable<Artifact>? artifacts, string path)
        {
            foreach (var a in artifacts ?? [])
                if (!a.IsLocal && !names.Contains(a.From) && !Validators.IsImageRef(a.From))
                    throw new BlubberException(BlubberErrorKind.Validation, $"from: \"{a.From}\" is not a valid image reference or known variant", path, a.Line);
        }
        void CheckCommon(CommonConfig c, string path)
        {
            foreach (var (req, p) in Requirements(c)) CheckFrom(req, $"{path}{p}");
            var customs = (c.Builders ?? []).Select((b, i) => (b.Custom, $"builders[{i}].custom.")).Append((c.Builder, "builder."));
            foreach (var (b, p) in customs)
                foreach (var m in b?.Mounts ?? [])
                    if (m.From != Artifact.Local && !names.Contains(m.From) && !Validators.IsImageRef(m.From))
                        throw new BlubberException(BlubberErrorKind.Validation,
                            $"from: \"{m.From}\" is not a valid image reference or known variant ({YNode.StricterThanBlubber}: Blubber does not check a mount's from "
                            + "and would try to pull it as an image at build time; Slipway writes it into a RUN --mount flag)", $"{path}{p}mounts", b!.Line);
        }
        CheckCommon(config.Common, "");
        foreach (var v in config.Variants)
        {
            var path = $"variants.{v.Name}";
            for (var i = 0; i < v.Includes.Count; i++)
            {
                var inc = v.Includes[i];
                if (!names.Contains(inc.Value) && inc.Value != Artifact.Local)
                    throw new BlubberException(BlubberErrorKind.Validation, $"includes[{i}]: references an unknown variant \"{inc.Value}\"", $"{path}.includes", inc.Line);
            }
            CheckFrom(v.Copies, $"{path}.copies");
            CheckCommon(v.Common, $"{path}.");
        }
    }

    internal static IEnumerable<(IReadOnlyList<Artifact>? Requirements, string Path)> Requirements(CommonConfig c)
    {
        yield return (c.Node?.Requirements, "node.requirements");
        yield return (c.Php?.Requirements, "php.requirements");
        yield return (c.Python?.Requirements, "python.requirements");
        yield return (c.Builder?.Requirements, "builder.requirements");
        foreach (var (b, i) in (c.Builders ?? []).Select((b, i) => (b, i)))
            yield return (b.Node?.Requirements ?? b.Php?.Requirements ?? b.Python?.Requirements ?? b.Custom?.Requirements, $"builders[{i}].{b.Kind}.requirements");
    }

    /// <summary>
    /// The fields of a list entry that Blubber decodes with its own <c>UnmarshalJSON</c> (copies, requirements, mounts,
    /// caches, apt proxies): that plain <c>json.Unmarshal</c> does not carry the reader's <c>DisallowUnknownFields</c>, so
    /// an unknown key there is dropped, not refused (a misspelt <c>destionation</c> leaves the destination unset).
    /// Slipway drops it too, and says so in the build log.
    /// </summary>
    private static List<(string Key, YNode Value)> LenientFields(YNode entry, params string[] known)
    {
        var kept = new List<(string Key, YNode Value)>();
        foreach (var (key, value) in entry.Map())
            if (Array.IndexOf(known, key) >= 0) kept.Add((key, value));
            else _state?.Warnings.Add($"{value.Path} (line {value.Line}): unknown field \"{key}\" ignored, as Blubber ignores unknown fields " +
                $"inside this list's entries (known: {string.Join(", ", known)})");
        return kept;
    }
}
