namespace Slipway.BuildConfig;

/// <summary>
/// YAML text → <see cref="BlubberConfig"/>, strictly (unknown keys refused) and with every
/// per-field rule of blubber-v4 §9 checked where the value is read, so errors carry its key
/// path and line. Rules that need the whole document (variant references) run at the end.
/// </summary>
public static class ConfigParser
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
        public BlubberSyntax? Syntax { get; } = syntax;
        public List<string> Warnings { get; } = [];
    }

    public static BlubberConfig Parse(string yaml, Limits? limits = null)
    {
        var outer = _state;
        _state = new ParseState(BlubberSyntax.Read(yaml));
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

    /// <summary>A key added to Blubber after the version the file pins: accepted (as current Blubber does), with a warning.</summary>
    private static void Since(YNode at, string key)
    {
        if (_state?.Syntax?.Version is not { } pinned || !BlubberVersions.Introduced.TryGetValue(key, out var added) || pinned >= added) return;
        _state.Warnings.Add($"{at.Path} (line {at.Line}): \"{key}\" was added in Blubber v{added.ToString(3)}; the pinned {_state.Syntax.VersionText} would refuse it, Slipway accepts it as current Blubber does");
    }

    /// <summary>Whether the pinned Blubber version still accepted <c>python.use-system-flag</c>.</summary>
    private static bool PinAcceptsUseSystemFlag => _state?.Syntax?.Version is { } v && v < BlubberVersions.UseSystemFlagRemoved;

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

    private static AptConfig ParseApt(YNode v)
    {
        var packages = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        var sources = new List<AptSource>();
        var proxies = new List<AptProxy>();
        foreach (var (key, n) in v.Fields("packages", "sources", "proxies"))
        {
            if (n.IsNull) continue;
            switch (key)
            {
                case "packages":
                    if (n.IsList) packages.Add(new("default", ParsePackages(n, "default")));
                    else
                        foreach (var (rel, list) in n.Map())
                        {
                            if (rel.Length > 0 && !Validators.IsDebianRelease(rel))
                                throw list.Fail(BlubberErrorKind.Validation, $"packages: \"{rel}\" is not a valid Debian release name");
                            if (Validators.HasShellExpansion(rel) || rel.Contains('"') || rel.Contains('\\'))
                                throw Stricter(list, $"packages: \"{rel}\" must not contain \"$\", \"`\", quotes or backslashes", ShellWhy);
                            packages.Add(new(rel, list.IsNull ? [] : ParsePackages(list, rel)));
                        }
                    break;
                case "sources":
                    foreach (var s in n.List()) sources.Add(ParseSource(s));
                    break;
                case "proxies":
                    foreach (var p in n.List())
                    {
                        if (p.IsScalar) proxies.Add(new AptProxy(HttpUrl(p, "url"), null));
                        else
                        {
                            string? url = null, source = null;
                            foreach (var (pk, pv) in p.Fields("url", "source"))
                                if (pv.IsNull) continue;
                                else if (pk == "url") url = HttpUrl(pv, "url");
                                else source = HttpUrl(pv, "source");
                            if (url is null) throw p.Fail(BlubberErrorKind.Validation, "url: is required");
                            proxies.Add(new AptProxy(url, source));
                        }
                    }
                    break;
            }
        }
        return new AptConfig(packages, sources, proxies);
    }

    private static List<string> ParsePackages(YNode list, string release)
    {
        var items = list.List();
        var result = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            var p = items[i].Str();
            if (!Validators.IsDebianPackage(p))
                throw items[i].Fail(BlubberErrorKind.Validation, $"packages[{release}][{i}]: \"{p}\" is not a valid Debian package name");
            result.Add(p);
        }
        return result;
    }

    private static AptSource ParseSource(YNode n)
    {
        string? url = null, dist = null, signedBy = null;
        var components = new List<string>();
        foreach (var (k, v) in n.Fields("url", "distribution", "components", "signed-by"))
        {
            if (v.IsNull) continue;
            switch (k)
            {
                case "url": url = HttpUrl(v, "url"); break;
                case "distribution":
                    dist = v.Str();
                    if (!Validators.IsDebianRelease(dist)) throw v.Invalid($"\"{dist}\" is not a valid Debian release name");
                    break;
                case "components":
                    foreach (var c in v.List())
                    {
                        var s = c.Str();
                        if (!Validators.IsDebianComponent(s)) throw c.Fail(BlubberErrorKind.Validation, $"components: \"{s}\" is not a valid Debian component name");
                        components.Add(s);
                    }
                    break;
                case "signed-by": signedBy = Since(v, "apt.sources.signed-by", SignedBy(v)); break;
            }
        }
        if (url is null) throw n.Fail(BlubberErrorKind.Validation, "url: is required");
        if (dist is null) throw n.Fail(BlubberErrorKind.Validation, "distribution: is required");
        return new AptSource(url, dist, components, signedBy);
    }

    // Key text is multi-line by nature: allow newlines here only, and only printable ASCII otherwise.
    private static string SignedBy(YNode v)
    {
        if (!v.IsScalar) throw v.Fail(BlubberErrorKind.Parse, "signed-by: must be a string");
        var raw = v.RawScalar();
        if (raw.Length > 64 * 1024 || raw.Any(ch => ch != '\n' && (ch < 0x20 || ch > 0x7e)) || !raw.Contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"))
            throw v.Invalid("must be an ASCII-armoured OpenPGP public key");
        return raw;
    }

    private static string HttpUrl(YNode v, string key)
    {
        var s = v.Str();
        if (!Validators.IsHttpUrl(s)) throw v.Fail(BlubberErrorKind.Validation, $"{key}: \"{s}\" is not a valid HTTP/HTTPS URL");
        if (!Validators.IsHttpUrlStrict(s))
            throw Stricter(v, $"{key}: \"{s}\" must not contain whitespace, quotes, backslashes, \"$\", \"`\" or \";\"",
                "the URL is written into apt's configuration, where a quote would end the string and add apt options, some of which run commands");
        return s;
    }

    private static List<BuilderEntry> ParseBuilders(YNode v)
    {
        var result = new List<BuilderEntry>();
        foreach (var item in v.List())
        {
            var fields = item.Fields("custom", "node", "php", "python").Where(f => !f.Value.IsNull).ToList();
            if (fields.Count != 1)
                throw item.Fail(BlubberErrorKind.Validation, "builders: each entry must have exactly one of custom, node, php, python");
            var (kind, n) = fields[0];
            result.Add(kind switch
            {
                "node" => new BuilderEntry(ParseNode(n), null, null, null, item.Line),
                "php" => new BuilderEntry(null, ParsePhp(n), null, null, item.Line),
                "python" => new BuilderEntry(null, null, ParsePython(n), null, item.Line),
                _ => new BuilderEntry(null, null, null, ParseCustom(n), item.Line),
            });
        }
        var repeated = result.Where(b => b.Kind != "custom").GroupBy(b => b.Kind).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new BlubberException(BlubberErrorKind.Validation, "builders: contains disallowed repetitions of entries", v.Path, repeated.Skip(1).First().Line);
        return result;
    }

    private static NodeBuilder ParseNode(YNode v)
    {
        var b = new NodeBuilder(null, null, null, null, v.Line);
        foreach (var (k, n) in v.Fields("requirements", "env", "use-npm-ci", "allow-dedupe-failure"))
        {
            if (n.IsNull) continue;
            b = k switch
            {
                "requirements" => b with { Requirements = ParseRequirements(n) },
                "env" => b with { Env = NodeEnv(n) },
                "use-npm-ci" => b with { UseNpmCi = n.OptBool() },
                _ => b with { AllowDedupeFailure = n.OptBool() },
            };
        }
        return b;
    }

    private static string NodeEnv(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsNodeEnv(s)) throw n.Invalid($"\"{s}\" is not a valid Node environment name");
        return s;
    }

    private static PhpBuilder ParsePhp(YNode v)
    {
        var b = new PhpBuilder(null, null, v.Line);
        foreach (var (k, n) in v.Fields("requirements", "production"))
        {
            if (n.IsNull) continue;
            b = k == "requirements" ? b with { Requirements = ParseRequirements(n) } : b with { Production = n.OptBool() };
        }
        return b;
    }

    private static PythonBuilder ParsePython(YNode v)
    {
        var b = new PythonBuilder(null, null, null, null, null, null, null, null, null, null, v.Line);
        string[] keys = ["version", "requirements", "use-system-site-packages", "no-deps", "poetry", "venv",
            "pip-version", "setuptools-version", "tox-version", "wheel-version"];
        foreach (var (k, n) in v.Fields(PinAcceptsUseSystemFlag ? [.. keys, "use-system-flag"] : keys))
        {
            if (n.IsNull) continue;
            if (k is not ("version" or "requirements" or "no-deps" or "poetry" or "use-system-flag")) Since(n, "python." + k);
            if (k == "use-system-flag")
            {
                n.OptBool();
                _state!.Warnings.Add($"{n.Path} (line {n.Line}): \"use-system-flag\" was removed in Blubber v0.23.0 and is accepted because this file pins {_state.Syntax!.VersionText}; "
                    + "it has no effect: the Python builder installs into a virtualenv (as Blubber does since v0.23.0), where pip's Debian-only --system flag does not apply");
                continue;
            }
            b = k switch
            {
                "version" => b with { Version = PythonBinary(n) },
                "requirements" => b with { Requirements = ParseRequirements(n) },
                "use-system-site-packages" => b with { UseSystemSitePackages = n.OptBool() },
                "no-deps" => b with { NoDeps = n.OptBool() },
                "poetry" => b with { Poetry = ParsePoetry(n) },
                "venv" => b with { Venv = n.Str() },
                "pip-version" => b with { PipVersion = PyVersion(n) },
                "setuptools-version" => b with { SetuptoolsVersion = PyVersion(n) },
                "tox-version" => b with { ToxVersion = PyVersion(n) },
                _ => b with { WheelVersion = PyVersion(n) },
            };
        }
        return b;
    }

    private static string PythonBinary(YNode n)
    {
        var s = n.Str();
        // The binary name lands in shell commands unquoted, as in Blubber: allow only a command name or path.
        if (s.Length > 0 && !System.Text.RegularExpressions.Regex.IsMatch(s, @"^[A-Za-z0-9_./\-]+$"))
            throw Stricter(n, $"{n.Key}: \"{s}\" is not a valid Python binary name (letters, digits, _ . / -)",
                "the binary name starts shell commands unquoted, as in Blubber, in steps that have network access");
        return s;
    }

    // Blubber checks only poetry.version (pypkgver); the other pins are Slipway's stricter rule.
    private static string PyVersion(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsPythonVersionSpec(s))
            throw Stricter(n, $"{n.Key}: \"{s}\" is not a valid Python package version specification", ShellWhy);
        return s;
    }

    private static string PoetryVersion(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsPythonConstraint(s)) throw n.Invalid($"\"{s}\" is not a valid Python package version specification");
        return s;
    }

    private static PoetryConfig ParsePoetry(YNode v)
    {
        var p = new PoetryConfig(null, null, null, null);
        foreach (var (k, n) in v.Fields("version", "devel", "only", "without"))
        {
            if (n.IsNull) continue;
            p = k switch
            {
                "version" => p with { Version = PoetryVersion(n) },
                "devel" => p with { Devel = n.OptBool() },
                "only" => Since(n, "python.poetry.only", p with { Only = GroupList(n) }),
                _ => Since(n, "python.poetry.without", p with { Without = GroupList(n) }),
            };
        }
        return p;
    }

    // A string in Blubber (passed to poetry as one argument, e.g. "main,dev"); a list is a decode error there too.
    private static List<string> GroupList(YNode n) => [NoShellExpansion(n, n.Str())];

    private static CustomBuilder ParseCustom(YNode v)
    {
        var b = new CustomBuilder(null, null, null, null, null, null, v.Line);
        foreach (var (k, n) in v.Fields("command", "script", "requirements", "mounts", "caches"))
        {
            if (n.IsNull) continue;
            switch (k)
            {
                case "command":
                    // Any text, as in Blubber: it runs as `/bin/sh -c <text>`, rendered JSON-escaped when it spans lines.
                    if (n.IsList) b = b with { Command = n.List().Select(x => x.StrAny()).ToList() };
                    else b = b with { ShellCommand = n.StrAny() };
                    break;
                case "script": b = Since(n, "builder.script", b with { Script = n.RawScalar() }); break;
                case "requirements": b = b with { Requirements = ParseRequirements(n) }; break;
                case "mounts":
                    var mounts = n.List().Select(m => m.IsScalar ? CheckMount(m, new Mount(m.Str(), null, null)) : ParseMount(m)).ToList();
                    if (mounts.Distinct().Count() != mounts.Count) throw n.Fail(BlubberErrorKind.Validation, "mounts: cannot contain duplicates");
                    b = Since(n, "builder.mounts", b with { Mounts = mounts });
                    break;
                case "caches":
                    var caches = n.List().Select(c => c.IsScalar ? CheckCache(c, new Cache(c.Str(), null, null)) : ParseCache(c)).ToList();
                    if (caches.Distinct().Count() != caches.Count) throw n.Fail(BlubberErrorKind.Validation, "caches: cannot contain duplicates");
                    b = Since(n, "builder.caches", b with { Caches = caches });
                    break;
            }
        }
        if (b.HasCommand && b.Script is not null)
            throw v.Fail(BlubberErrorKind.Validation, "command: is not allowed if any of field(s) \"script\" is declared/included");
        return b;
    }

    private static Mount ParseMount(YNode m)
    {
        string? from = null, dest = null, src = null;
        foreach (var (k, n) in m.Fields("from", "destination", "source"))
            if (k == "from") from = n.OptStr(); else if (k == "destination") dest = n.OptStr(); else src = n.OptStr();
        if (string.IsNullOrEmpty(from))
            throw Stricter(m, "from: is required", "Blubber would mount an image named \"\" and fail the build");
        return CheckMount(m, new Mount(from, dest, src));
    }

    private const string MountWhy = "the value is written into a RUN --mount flag, whose comma-separated fields it would split";

    // Blubber does not check mounts; Slipway renders them into RUN --mount flags, so their fields must fit one.
    private static Mount CheckMount(YNode at, Mount m)
    {
        foreach (var (name, value) in new[] { ("destination", m.Destination), ("source", m.Source) })
            if (value is not null && !IsMountField(value))
                throw Stricter(at, $"{name}: \"{value}\" must not contain commas, quotes, \"=\" or whitespace", MountWhy);
        return m;
    }

    private static Cache CheckCache(YNode at, Cache c)
    {
        if (c.Destination.Length == 0) throw at.Fail(BlubberErrorKind.Validation, "destination: is required");
        foreach (var (name, value) in new[] { ("destination", c.Destination), ("id", c.Id) })
            if (value is not null && !IsMountField(value))
                throw Stricter(at, $"{name}: \"{value}\" must not contain commas, quotes, \"=\" or whitespace", MountWhy);
        return c;
    }

    private static bool IsMountField(string s) => !s.Any(ch => ch is ',' or '"' or '\'' or '=' || char.IsWhiteSpace(ch));

    private static Cache ParseCache(YNode c)
    {
        string? dest = null, id = null, access = null;
        foreach (var (k, n) in c.Fields("destination", "id", "access"))
            if (k == "destination") dest = n.OptStr(); else if (k == "id") id = n.OptStr(); else access = n.OptStr();
        if (string.IsNullOrEmpty(dest)) throw c.Fail(BlubberErrorKind.Validation, "destination: is required");
        if (access is not null and not ("shared" or "private" or "locked"))
            throw c.Fail(BlubberErrorKind.Validation, $"access: \"{access}\" must be one of shared, private, locked");
        return CheckCache(c, new Cache(dest, id, access));
    }

    private static LivesConfig ParseLives(YNode v)
    {
        var l = new LivesConfig(null, null, null, null);
        foreach (var (k, n) in v.Fields("in", "as", "uid", "gid"))
        {
            if (n.IsNull) continue;
            l = k switch
            {
                "in" => l with { In = AbsPath(n) },
                "as" => l with { As = UserName(n) },
                "uid" => l with { Uid = n.OptUInt() },
                _ => l with { Gid = n.OptUInt() },
            };
        }
        return l;
    }

    private static RunsConfig ParseRuns(YNode v)
    {
        var r = new RunsConfig(null, null, null, null, null, []);
        foreach (var (k, n) in v.Fields("in", "as", "uid", "gid", "environment", "insecurely"))
        {
            if (n.IsNull) continue;
            r = k switch
            {
                "in" => r with { In = AbsPath(n) },
                "as" => r with { As = UserName(n) },
                "uid" => r with { Uid = n.OptUInt() },
                "gid" => r with { Gid = n.OptUInt() },
                "environment" => r with { Environment = ParseEnvMap(n) },
                _ => r with { Insecurely = n.OptBool() },
            };
        }
        return r;
    }

    private static string AbsPath(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsAbsNonRootPath(s)) throw n.Invalid($"\"{s}\" is not a valid absolute non-root path");
        return Validators.CleanPath(s); // the same directory Blubber's path operations reach
    }

    private static string UserName(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsUserName(s)) throw n.Invalid($"\"{s}\" is not a valid user name");
        return s;
    }

    private static List<Artifact> ParseRequirements(YNode n)
    {
        var list = n.List().Select(i => i.IsScalar ? CheckArtifact(i, new Artifact(Artifact.Local, i.Str(), null, [], i.Line)) : ParseArtifact(i)).ToList();
        RefuseDuplicates(n, list);
        return list;
    }

    private static List<Artifact> ParseCopies(YNode n)
    {
        var items = n.List();
        List<Artifact> list;
        if (items.All(i => i.IsScalar))
            list = items.Select(i => CheckArtifact(i, new Artifact(i.Str(), null, null, [], i.Line))).ToList();
        else if (items.All(i => i.IsMap))
            list = items.Select(ParseArtifact).ToList();
        else
            throw n.Fail(BlubberErrorKind.Parse, "copies: must be a list of variant names or a list of artifacts, not a mix");
        RefuseDuplicates(n, list);
        return list;
    }

    private static void RefuseDuplicates(YNode n, List<Artifact> list)
    {
        var seen = new HashSet<string>();
        foreach (var a in list)
            if (!seen.Add(a.Key)) throw new BlubberException(BlubberErrorKind.Validation, $"{n.Key}: cannot contain duplicates", n.Path, a.Line);
    }

    private static Artifact ParseArtifact(YNode i)
    {
        string? from = null, source = null, dest = null;
        var exclude = new List<string>();
        foreach (var (k, v) in i.Fields("from", "source", "destination", "exclude"))
        {
            if (v.IsNull) continue;
            switch (k)
            {
                case "from": from = v.Str(); break;
                case "source": source = v.Str(); break;
                case "destination": dest = v.Str(); break;
                default: exclude.AddRange(Since(v, "artifact.exclude", v.StrList())); break;
            }
        }
        if (string.IsNullOrEmpty(from)) throw i.Fail(BlubberErrorKind.Validation, "from: is required");
        return CheckArtifact(i, new Artifact(from, NullIfEmpty(source), NullIfEmpty(dest), exclude, i.Line));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static Artifact CheckArtifact(YNode at, Artifact a)
    {
        if (a.Destination is not null && a.Source is null)
            throw at.Fail(BlubberErrorKind.Validation, "source: is required if \"destination\" is also set");
        // Blubber's relativelocal; a destination and a non-local source are not checked (the copy stays in the image).
        if (a.IsLocal && a.Source is not null && !Validators.IsRelativeLocal(a.Source))
            throw at.Fail(BlubberErrorKind.Validation, "source: path must be relative when \"from\" is \"local\"");
        return a;
    }

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
}
