using System.Security.Cryptography;
using System.Text;

namespace Slipway.BuildConfig;

/// <summary>Inputs to compilation besides the config.</summary>
public sealed record CompileOptions
{
    /// <summary>Value of the <c>blubber.version</c> label.</summary>
    public string Version { get; init; } = DefaultVersion;

    /// <summary>
    /// The build context's files (relative, <c>/</c>-separated, already filtered by <c>.dockerignore</c>).
    /// Needed only to honour <c>exclude</c> on local copies; without it such configs are refused.
    /// </summary>
    public IReadOnlyList<string>? ContextFiles { get; init; }

    /// <summary>Most COPY instructions one excluded local copy may expand into.</summary>
    public int MaxExcludeCopies { get; init; } = 50;

    public static string DefaultVersion =>
        "slipway-" + (typeof(CompileOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
}

/// <summary>Expanded variants → <see cref="BuildPlan"/>, phase by phase as blubber-v4 §7 lays out.</summary>
public static class Compiler
{
    public const string LibDir = "/opt/lib";
    private const string Chown = "$LIVES_UID:$LIVES_GID";

    public static BuildPlan Compile(ExpandedConfig expanded, CompileOptions? options = null)
    {
        options ??= new CompileOptions();
        var byName = expanded.Config.Variants.Select(v => v.Name).ToHashSet();
        var stageWorkdirs = expanded.Stages.ToDictionary(s => s.Name, s => s.WorkingDirectory);
        var stages = expanded.Stages.Select(v => CompileStage(v, stageWorkdirs, byName, options)).ToList();
        var labels = new List<KeyValuePair<string, string>>
        {
            new("blubber.variant", expanded.Target.Name),
            new("blubber.version", options.Version),
        };
        return new BuildPlan(stages, labels);
    }

    private static Stage CompileStage(ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, HashSet<string> variants, CompileOptions options)
    {
        var c = v.Common;
        var path = $"variants.{v.Name}";
        if (v.IsScratch)
        {
            // Scratch: only the copies (root-owned) and the entry point (blubber-v4 §7.6).
            var install = ExpandCopies(v, workdirs, variants, options, chown: null, path);
            var post = c.Entrypoint is null ? new List<Instruction>() : [new EntrypointInstruction(c.Entrypoint)];
            return new Stage(v.Name, "", [new(Phase.Install, install), new(Phase.PostInstall, post)]);
        }

        var lives = c.Lives;
        var runs = c.Runs;
        var privileged = new List<Instruction> { new UserInstruction("0"), Env("HOME", "/root") };
        foreach (var (k, val) in c.Arguments.OrderBy(a => a.Key, StringComparer.Ordinal))
            privileged.Add(new ArgInstruction(k, val));
        privileged.AddRange(Apt(c.Apt));
        privileged.Add(new ArgInstruction("LIVES_AS", lives.As!));
        privileged.Add(new ArgInstruction("LIVES_UID", lives.Uid!.Value.ToString()));
        privileged.Add(new ArgInstruction("LIVES_GID", lives.Gid!.Value.ToString()));
        privileged.Add(new RunInstruction([.. CreateUser("LIVES"),
            $"mkdir -p {Q(lives.In!)} && chown \"$LIVES_UID\":\"$LIVES_GID\" {Q(lives.In!)}",
            $"mkdir -p {Q(LibDir)} && chown \"$LIVES_UID\":\"$LIVES_GID\" {Q(LibDir)}"]));
        privileged.Add(new ArgInstruction("RUNS_AS", runs.As!));
        privileged.Add(new ArgInstruction("RUNS_UID", runs.Uid!.Value.ToString()));
        privileged.Add(new ArgInstruction("RUNS_GID", runs.Gid!.Value.ToString()));
        privileged.Add(new RunInstruction(CreateUser("RUNS")));

        var dropped = new List<Instruction>
        {
            new UserInstruction("$LIVES_UID"),
            Env("HOME", $"/home/{lives.As}"),
            new WorkingDirectoryInstruction(lives.In!),
        };
        if (runs.Environment.Count > 0) dropped.Add(new EnvInstruction(runs.Environment));

        var preInstall = new List<Instruction>();
        var postInstall = new List<Instruction>();
        if (runs.Insecurely != true)
        {
            postInstall.Add(new UserInstruction("$RUNS_UID"));
            postInstall.Add(Env("HOME", "/home/$RUNS_AS"));
        }
        foreach (var b in Builders(c))
        {
            if (b.Node is { } node) NodeSteps(node, v, workdirs, preInstall, postInstall);
            else if (b.Php is { } php) PhpSteps(php, v, workdirs, preInstall);
            else if (b.Python is { } py) PythonSteps(py, v, workdirs, preInstall, postInstall);
            else if (b.Custom is { } custom) CustomSteps(custom, v, workdirs, preInstall, path);
        }
        if (runs.In is not null) postInstall.Add(new WorkingDirectoryInstruction(runs.In));
        if (c.Entrypoint is not null) postInstall.Add(new EntrypointInstruction(c.Entrypoint));

        var installs = ExpandCopies(v, workdirs, variants, options, Chown, path);
        return new Stage(v.Name, c.Base!, [
            new(Phase.Privileged, privileged), new(Phase.PrivilegeDropped, dropped), new(Phase.PreInstall, preInstall),
            new(Phase.Install, installs), new(Phase.PostInstall, postInstall)]);
    }

    private static IEnumerable<BuilderEntry> Builders(CommonConfig c)
    {
        if (c.Builders is not null) return c.Builders;
        var list = new List<BuilderEntry>();
        if (c.Node is not null) list.Add(new BuilderEntry(c.Node, null, null, null, c.Node.Line));
        if (c.Php is not null) list.Add(new BuilderEntry(null, c.Php, null, null, c.Php.Line));
        if (c.Python is not null) list.Add(new BuilderEntry(null, null, c.Python, null, c.Python.Line));
        if (c.Builder is not null) list.Add(new BuilderEntry(null, null, null, c.Builder, c.Builder.Line));
        return list;
    }

    private static string[] CreateUser(string prefix) =>
    [
        $"(getent group \"${prefix}_GID\" || groupadd -o -g \"${prefix}_GID\" -r \"${prefix}_AS\")",
        $"(getent passwd \"${prefix}_UID\" || useradd -l -o -m -d \"/home/${prefix}_AS\" -r -g \"${prefix}_GID\" -u \"${prefix}_UID\" \"${prefix}_AS\")",
    ];

    private static IEnumerable<Instruction> Apt(AptConfig apt)
    {
        if (apt.IsEmpty) yield break;
        yield return Env("DEBIAN_FRONTEND", "noninteractive");
        const string proxyFile = "/etc/apt/apt.conf.d/99blubber-proxies";
        if (apt.Proxies.Count > 0)
        {
            var lines = apt.Proxies.Select(p =>
            {
                var u = new Uri(p.Source ?? p.Url);
                return p.Source is null ? $"Acquire::{u.Scheme}::Proxy \"{p.Url}\";" : $"Acquire::{u.Scheme}::Proxy::{u.Host} \"{p.Url}\";";
            });
            yield return new RunInstruction([$"printf '%s\\n' {string.Join(' ', lines.Select(Lit))} > {Q(proxyFile)} && chmod 0644 {Q(proxyFile)}"]);
        }
        var keyrings = new List<string>();
        foreach (var s in apt.Sources.Where(s => s.SignedBy is not null))
        {
            var file = KeyringPath(s.SignedBy!);
            if (keyrings.Contains(file)) continue;
            keyrings.Add(file);
            var keyLines = s.SignedBy!.TrimEnd('\n').Split('\n');
            yield return new RunInstruction([$"mkdir -p \"/etc/apt/keyrings\" && printf '%s\\n' {string.Join(' ', keyLines.Select(Lit))} > {Q(file)} && chmod 0644 {Q(file)}"]);
        }
        if (apt.Sources.Count > 0)
        {
            var lines = apt.Sources.Select(s =>
                string.Join(' ', new[] { "deb", s.SignedBy is null ? null : $"[signed-by={KeyringPath(s.SignedBy)}]", s.Url, s.Distribution }
                    .Concat(s.Components).Where(x => !string.IsNullOrEmpty(x))));
            yield return new RunInstruction([
                "apt-get update", "apt-get install -y \"ca-certificates\"",
                $"printf '%s\\n' {string.Join(' ', lines.Select(Lit))} > \"/etc/apt/sources.list.d/99blubber.list\""]);
        }
        var commands = new List<string>();
        var targets = apt.Packages.Where(p => p.Value.Count > 0).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        if (targets.Count > 0) commands.Add("apt-get update");
        foreach (var (rel, pkgs) in targets)
            commands.Add(rel == "default"
                ? $"apt-get install -y {string.Join(' ', pkgs.Select(Q))}"
                : $"apt-get install -y -t {Q(rel)} {string.Join(' ', pkgs.Select(Q))}");
        commands.Add("rm -rf /var/lib/apt/lists/*");
        if (apt.Proxies.Count > 0) commands.Add($"rm -f {Q(proxyFile)}");
        yield return new RunInstruction(commands);
    }

    private static string KeyringPath(string key) =>
        $"/etc/apt/keyrings/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}.asc";

    private static void NodeSteps(NodeBuilder node, ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, List<Instruction> pre, List<Instruction> post)
    {
        var reqs = node.Requirements ?? [];
        if (reqs.Count > 0)
        {
            pre.AddRange(RequirementCopies(reqs, workdirs, v));
            var install = node.UseNpmCi == true ? "npm ci" : "npm install";
            if (node.Env == "production") install += " --only=production";
            var commands = new List<string> { install };
            if (node.Env == "production")
                commands.Add(node.AllowDedupeFailure == true ? "npm dedupe || echo \"WARNING: npm dedupe failed, continuing anyways\"" : "npm dedupe");
            pre.Add(new RunInstruction(commands));
        }
        if (node.Env is not null || reqs.Count > 0) post.Add(Env("NODE_ENV", node.Env ?? ""));
    }

    private static void PhpSteps(PhpBuilder php, ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, List<Instruction> pre)
    {
        var reqs = php.Requirements ?? [];
        if (reqs.Count == 0) return;
        pre.AddRange(RequirementCopies(reqs, workdirs, v));
        pre.Add(new RunInstruction([php.Production == true ? "composer install \"--no-scripts\" \"--no-dev\"" : "composer install \"--no-scripts\""]));
    }

    private static void PythonSteps(PythonBuilder py, ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, List<Instruction> pre, List<Instruction> post)
    {
        if (string.IsNullOrEmpty(py.Version) || py.Requirements is null) return;
        var bin = py.Version;
        var venv = py.Venv ?? $"{LibDir}/venv";
        pre.AddRange(RequirementCopies(py.Requirements, workdirs, v));
        pre.Add(new RunInstruction([$"{bin} -m venv {Q(venv)}" + (py.UseSystemSitePackages == true ? " \"--system-site-packages\"" : "")]));
        pre.Add(new EnvInstruction([new("PATH", $"{venv}/bin:$PATH"), new("VIRTUAL_ENV", venv)]));
        var pip = py.PipVersion is null && bin.StartsWith("python2", StringComparison.Ordinal) ? "pip<21" : "pip" + Spec(py.PipVersion);
        pre.Add(new RunInstruction([
            $"{bin} -m pip install -U {Q("setuptools" + (py.SetuptoolsVersion is null ? "!=60.9.0" : Spec(py.SetuptoolsVersion)))}",
            $"{bin} -m pip install -U {Q("wheel" + Spec(py.WheelVersion))} {Q("tox" + Spec(py.ToxVersion))} {Q(pip)}"]));
        if (py.Poetry?.Version is { } poetryVersion)
        {
            pre.Add(Env("POETRY_VIRTUALENVS_PATH", $"{LibDir}/poetry"));
            var install = "poetry install --no-root";
            if (py.Poetry.Only is { Count: > 0 } only) install += $" --only {Q(string.Join(',', only))}";
            if (py.Poetry.Without is { Count: > 0 } without) install += $" --without {Q(string.Join(',', without))}";
            if (py.Poetry.Only is not { Count: > 0 } && py.Poetry.Without is not { Count: > 0 } && py.Poetry.Devel != true) install += " --no-dev";
            pre.Add(new RunInstruction([$"{bin} -m pip install -U {Q("poetry" + Spec(poetryVersion))}", $"mkdir -p {Q($"{LibDir}/poetry")}", install]));
        }
        else if (py.Requirements.Count > 0)
        {
            var files = py.Requirements.Select(r => EffectiveDestination(r, workdirs)).Select(d => $"-r {Q(d)}");
            pre.Add(new RunInstruction([$"{bin} -m pip install" + (py.NoDeps == true ? " --no-deps" : "") + " " + string.Join(' ', files)]));
        }
        if (py.NoDeps == true && py.Poetry?.Version is null) post.Add(new RunInstruction([$"{bin} -m pip check"]));
    }

    private static string Spec(string? version) =>
        version is null ? "" : char.IsAsciiDigit(version[0]) ? "==" + version : version;

    private static void CustomSteps(CustomBuilder b, ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, List<Instruction> pre, string path)
    {
        // The classic Dockerfile has no BuildKit mounts: refuse rather than build a different image.
        if (b.Script is not null)
            throw new BlubberException(BlubberErrorKind.Expansion,
                "builder.script: is not supported: Slipway builds classic Dockerfiles, which cannot run a script without it landing in the image; use \"command\"",
                path, b.Line);
        if (b.Mounts is { Count: > 0 })
            throw new BlubberException(BlubberErrorKind.Expansion,
                "builder.mounts: is not supported: Slipway builds classic Dockerfiles, which have no BuildKit mounts; use \"requirements\" or \"copies\"",
                path, b.Line);
        if (b.Caches is { Count: > 0 })
            throw new BlubberException(BlubberErrorKind.Expansion,
                "builder.caches: is not supported: Slipway builds classic Dockerfiles, which have no BuildKit cache mounts (the cached files would land in the image)",
                path, b.Line);
        if (b.Requirements is { Count: > 0 } reqs) pre.AddRange(RequirementCopies(reqs, workdirs, v));
        if (b.ShellCommand is { } shell) pre.Add(new RunInstruction([shell]));
        else if (b.Command is { } cmd) pre.Add(new RunInstruction([string.Join(' ', [cmd[0], .. cmd.Skip(1).Select(Q)])]));
    }

    // Requirements: grouped by from, then by normalized destination, first-seen order; one COPY per group.
    private static IEnumerable<Instruction> RequirementCopies(IReadOnlyList<Artifact> reqs, IReadOnlyDictionary<string, string> workdirs, ExpandedVariant v)
    {
        foreach (var a in reqs.Where(a => a.Exclude.Count > 0))
            throw new BlubberException(BlubberErrorKind.Expansion, "exclude: is not supported on builder requirements (list the files instead)", $"variants.{v.Name}", a.Line);
        var groups = new List<(string From, string Dest, List<string> Sources)>();
        foreach (var a in reqs)
        {
            var (src, dest) = Normalize(a, workdirs);
            var g = groups.FindIndex(x => x.From == a.From && x.Dest == dest);
            if (g < 0) groups.Add((a.From, dest, [src]));
            else groups[g].Sources.Add(src);
        }
        foreach (var (from, dest, sources) in groups)
            yield return new CopyInstruction(sources, sources.Count > 1 && !dest.EndsWith('/') ? dest + "/" : dest, v.IsScratch ? null : Chown,
                from == Artifact.Local ? null : from);
    }

    private static (string Source, string Destination) Normalize(Artifact a, IReadOnlyDictionary<string, string> workdirs)
    {
        var src = a.Source ?? ".";
        var isDir = src.EndsWith('/') || src == ".";
        var dest = a.Destination ?? (isDir ? src : DirName(src));
        return (Resolve(a, src, workdirs), dest);
    }

    private static string DirName(string file)
    {
        var i = file.TrimEnd('/').LastIndexOf('/');
        return i < 0 ? "./" : file[..(i + 1)];
    }

    private static string EffectiveDestination(Artifact a, IReadOnlyDictionary<string, string> workdirs)
    {
        var (src, dest) = Normalize(a, workdirs);
        if (!dest.EndsWith('/')) return dest;
        var name = src.TrimEnd('/')[(src.TrimEnd('/').LastIndexOf('/') + 1)..];
        return dest == "./" ? name : dest + name;
    }

    // A relative source of another variant resolves against that variant's working directory; of an image, against /.
    private static string Resolve(Artifact a, string src, IReadOnlyDictionary<string, string> workdirs)
    {
        if (a.IsLocal || src.StartsWith('/')) return src;
        var root = workdirs.TryGetValue(a.From, out var wd) ? wd : "";
        var joined = src == "." ? root : $"{root}/{src.TrimStart('.', '/')}";
        if (src.EndsWith('/') && !joined.EndsWith('/')) joined += "/";
        return joined.Length == 0 ? "/" : joined;
    }

    private static List<Instruction> ExpandCopies(ExpandedVariant v, IReadOnlyDictionary<string, string> workdirs, HashSet<string> variants,
        CompileOptions options, string? chown, string path)
    {
        var result = new List<Instruction>();
        foreach (var a in v.Copies)
        {
            string? from = a.IsLocal ? null : a.From;
            if (a.Source is null && a.Destination is null)
            {
                if (a.IsLocal) result.AddRange(LocalCopy(a, ".", ".", chown, options, path));
                else
                {
                    RefuseRemoteExclude(a, path);
                    var own = v.WorkingDirectory;
                    result.Add(new CopyInstruction([own], own, chown, from));
                    result.Add(new CopyInstruction([LibDir], LibDir, chown, from));
                }
                continue;
            }
            var src = a.Source!;
            var dest = a.Destination ?? src;
            if (a.IsLocal) result.AddRange(LocalCopy(a, src, dest, chown, options, path));
            else
            {
                RefuseRemoteExclude(a, path);
                result.Add(new CopyInstruction([Resolve(a, src, workdirs)], dest, chown, from));
            }
        }
        return result;
    }

    private static void RefuseRemoteExclude(Artifact a, string path)
    {
        if (a.Exclude.Count > 0)
            throw new BlubberException(BlubberErrorKind.Expansion,
                "exclude: is only supported for copies from \"local\" (a classic Dockerfile COPY --from cannot exclude files)", $"{path}.copies", a.Line);
    }

    /// <summary>
    /// A local copy. With <c>exclude</c> patterns the compiler cannot use COPY's own filter (classic builds have
    /// none), so it lists what survives from the build context and copies whole directories where nothing
    /// below them is excluded, and single files otherwise.
    /// </summary>
    private static IEnumerable<Instruction> LocalCopy(Artifact a, string src, string dest, string? chown, CompileOptions options, string path)
    {
        if (a.Exclude.Count == 0) return [new CopyInstruction([src], dest, chown, null)];
        if (options.ContextFiles is null)
            throw new BlubberException(BlubberErrorKind.Expansion, "exclude: needs the list of build context files to be honoured", $"{path}.copies", a.Line);
        var root = DockerIgnore.Clean(src);
        var ignore = new DockerIgnore(a.Exclude);
        var prefix = root.Length == 0 ? "" : root + "/";
        var files = options.ContextFiles.Select(DockerIgnore.Clean)
            .Where(f => root.Length == 0 || f.StartsWith(prefix, StringComparison.Ordinal) || f == root)
            .Select(f => f == root ? "" : f[prefix.Length..]).ToList();
        if (files.Count == 1 && files[0] == "") // a single file source
            return ignore.Excludes(root[(root.LastIndexOf('/') + 1)..]) ? [] : [new CopyInstruction([src], dest, chown, null)];
        var kept = files.Where(f => f.Length > 0 && !ignore.Excludes(f)).ToHashSet();
        var excludedAny = files.Where(f => f.Length > 0 && ignore.Excludes(f)).ToList();
        var destDir = dest == "." ? "./" : dest.EndsWith('/') ? dest : dest + "/";
        var copies = new List<Instruction>();
        void Walk(string dir)
        {
            var dirPrefix = dir.Length == 0 ? "" : dir + "/";
            var entries = kept.Where(f => f.StartsWith(dirPrefix, StringComparison.Ordinal)).Select(f => f[dirPrefix.Length..]).ToList();
            var looseFiles = entries.Where(e => !e.Contains('/')).Order(StringComparer.Ordinal).ToList();
            if (looseFiles.Count > 0)
                copies.Add(new CopyInstruction(looseFiles.Select(f => Join(prefix + dirPrefix, f)).ToList(), dir.Length == 0 ? destDir : Join(destDir, dirPrefix), chown, null));
            foreach (var sub in entries.Where(e => e.Contains('/')).Select(e => e[..e.IndexOf('/')]).Distinct().Order(StringComparer.Ordinal))
            {
                var subPath = dirPrefix + sub;
                if (excludedAny.Any(x => x.StartsWith(subPath + "/", StringComparison.Ordinal))) Walk(subPath);
                else copies.Add(new CopyInstruction([Join(prefix, subPath) + "/"], Join(destDir, subPath) + "/", chown, null));
            }
        }
        Walk("");
        if (copies.Count > options.MaxExcludeCopies)
            throw new BlubberException(BlubberErrorKind.Expansion,
                $"exclude: would need more than {options.MaxExcludeCopies} COPY instructions; exclude whole directories or use .dockerignore", $"{path}.copies", a.Line);
        return copies;
    }

    private static string Join(string a, string b) => a.Length == 0 || a == "./" ? b : a.EndsWith('/') ? a + b : $"{a}/{b}";

    private static EnvInstruction Env(string k, string v) => new([new(k, v)]);

    /// <summary>
    /// Go's strconv.Quote, as Blubber quotes arguments: <c>$VAR</c> still expands in the shell, control characters
    /// become escapes (<c>\n</c>, <c>\x01</c>), so the result is always one line.
    /// </summary>
    public static string Q(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var r in s.EnumerateRunes())
        {
            switch (r.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (r.Value < 0x20 || r.Value == 0x7f) sb.Append($"\\x{r.Value:x2}");
                    else if (Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                             or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator)
                        sb.Append(r.Value > 0xffff ? $"\\U{r.Value:x8}" : $"\\u{r.Value:x4}");
                    else sb.Append(r.ToString());
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A JSON string (exec-form arrays in the Dockerfile): control characters escaped, so it stays on one line.</summary>
    public static string J(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' or '\u007f' or '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.Append('"').ToString();
    }

    /// <summary>Single-quoted literal for generated file contents (no expansion at all).</summary>
    public static string Lit(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
