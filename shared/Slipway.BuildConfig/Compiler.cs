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

    /// <summary>
    /// Render for BuildKit's built-in Dockerfile frontend (dockerd 20.10, Engine API <c>version=2</c>): builder
    /// <c>script</c>, <c>mounts</c>, <c>caches</c>, <c>exclude</c> on copies from variants and images, and
    /// <c>RUN --network=none</c> on every step but package installs. False renders for the classic builder, which
    /// refuses those features.
    /// </summary>
    public bool BuildKit { get; init; } = true;

    /// <summary>
    /// Write <c>RUN --network=none</c> on every step that installs nothing. Off by default: dockerd 20.10.24's built-in
    /// Dockerfile frontend refuses the flag ("Unknown flag: network", measured through the CLI and the Engine API with
    /// version=2); only a frontend with it (Dockerfile 1.3+) can isolate steps one by one. Without it the build's one
    /// network applies to every step, so a build with no <see cref="RunInstruction.NeedsNetwork"/> step gets none.
    /// </summary>
    public bool NetworkNoneFlag { get; init; }

    /// <summary>
    /// The project's cache scope (e.g. the Gerrit project name): every cache mount id is prefixed with it, so
    /// caches persist across runs of one project and are never shared between projects. Required for <c>caches</c>.
    /// </summary>
    public string? CacheScope { get; init; }

    /// <summary>Blubber's <c>build-arg:NAME</c>: values for the variant's declared <c>arguments</c> and LIVES_*/RUNS_*.</summary>
    public IReadOnlyDictionary<string, string>? BuildArgs { get; init; }

    /// <summary>Blubber's <c>run-variant</c> option: run the target's entry point as the last build step.</summary>
    public bool RunVariant { get; init; }

    /// <summary>Blubber's <c>entrypoint-args</c> (a JSON array there): extra arguments for the run-variant step.</summary>
    public IReadOnlyList<string>? EntrypointArgs { get; init; }

    /// <summary>Blubber's <c>run-variant-env</c> (a JSON object there): environment of the run-variant step only.</summary>
    public IReadOnlyDictionary<string, string>? RunVariantEnv { get; init; }

    /// <summary>
    /// The configs of base images (by the reference the Blubber file names as <c>base</c>), read by the builder: the
    /// entry point <c>run-variant</c> runs when the variant sets none, and the environment <c>$NAME</c> in builder
    /// <c>mounts</c>/<c>caches</c> expands against. Null or missing: what needs one is refused with
    /// <see cref="BlubberException.NeedsBaseImage"/> set.
    /// </summary>
    public IReadOnlyDictionary<string, BaseImageConfig>? BaseImages { get; init; }

    /// <summary>Makes the run-variant step's text unique, so it is never cached (as in Blubber); random when null.</summary>
    public string? RunVariantNonce { get; init; }

    public static string DefaultVersion =>
        "slipway-" + (typeof(CompileOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
}

/// <summary>Expanded variants → <see cref="BuildPlan"/>, phase by phase as blubber-v4 §7 lays out.</summary>
public static class Compiler
{
    public const string LibDir = "/opt/lib";
    private const string Chown = "$LIVES_UID:$LIVES_GID";

    /// <summary>What one compilation shares between its stages.</summary>
    private sealed class Ctx(ExpandedConfig expanded, CompileOptions options)
    {
        public CompileOptions Options { get; } = options;
        public ExpandedConfig Expanded { get; } = expanded;
        public HashSet<string> Variants { get; } = expanded.Config.Variants.Select(v => v.Name).ToHashSet();
        public Dictionary<string, string> Workdirs { get; } = expanded.Stages.ToDictionary(s => s.Name, s => s.WorkingDirectory);
        public List<string> Warnings { get; } = [.. expanded.Config.Warnings];
        public List<Stage> Helpers { get; } = [];
        public int HelperCount { get; set; }
    }

    public static BuildPlan Compile(ExpandedConfig expanded, CompileOptions? options = null)
    {
        options ??= new CompileOptions();
        CheckBaseImages(options);
        var ctx = new Ctx(expanded, options);
        var stages = new List<Stage>();
        foreach (var v in expanded.Stages)
        {
            var stage = CompileStage(v, ctx);
            stages.AddRange(ctx.Helpers); // a stage's helpers come right before it
            ctx.Helpers.Clear();
            stages.Add(stage);
        }
        var labels = new List<KeyValuePair<string, string>> { new("blubber.variant", expanded.Target.Name) };
        // A file that pins its Blubber frontend records that version (what the team asked for); Slipway's compiler beside it.
        if (expanded.Config.Syntax?.VersionText is { } pinned)
        {
            labels.Add(new("blubber.version", pinned));
            labels.Add(new("slipway.compiler", options.Version));
        }
        else labels.Add(new("blubber.version", options.Version));
        return new BuildPlan(stages, labels)
        {
            BuildKit = options.BuildKit,
            NetworkNoneFlag = options.BuildKit && options.NetworkNoneFlag,
            Warnings = ctx.Warnings,
            BuildArgs = BuildArgs(expanded, options),
        };
    }

    private static void CheckBaseImages(CompileOptions options)
    {
        if (options.BaseImages is not { } images) return;
        if (images.Count > 200) throw new BlubberException(BlubberErrorKind.Expansion, "base images: more than 200 configs given");
        foreach (var (image, config) in images) config.Check(image);
    }

    /// <summary>The config of a stage's base image: Blubber's own for scratch, the builder's for an image, or null when not given.</summary>
    private static BaseImageConfig? BaseConfig(ExpandedVariant v, Ctx ctx) =>
        v.IsScratch ? BaseImageConfig.Scratch
        : ctx.Options.BaseImages is { } images && images.TryGetValue(v.Common.Base!, out var config) ? config : null;

    // Blubber passes on only the build-args a variant declares, and LIVES_*/RUNS_*; others are ignored.
    private static List<KeyValuePair<string, string>> BuildArgs(ExpandedConfig expanded, CompileOptions options)
    {
        var declared = expanded.Stages.SelectMany(s => s.Common.Arguments.Select(a => a.Key))
            .Concat(["LIVES_AS", "LIVES_UID", "LIVES_GID", "RUNS_AS", "RUNS_UID", "RUNS_GID"]).ToHashSet();
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (k, val) in (options.BuildArgs ?? new Dictionary<string, string>()).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (!declared.Contains(k)) continue;
            if (val.Any(char.IsControl) || val.Length > 4096)
                throw new BlubberException(BlubberErrorKind.Validation, $"build-arg {k}: must be at most 4096 characters without control characters");
            if (k.EndsWith("_UID", StringComparison.Ordinal) || k.EndsWith("_GID", StringComparison.Ordinal))
                if (!uint.TryParse(val, System.Globalization.NumberStyles.None, null, out _))
                    throw new BlubberException(BlubberErrorKind.Validation, $"build-arg {k}: \"{val}\" is not an unsigned integer");
            result.Add(new(k, val));
        }
        return result;
    }

    private static string? BuildArg(Ctx ctx, string name) => ctx.Options.BuildArgs is { } args && args.TryGetValue(name, out var v) ? v : null;

    private static Stage CompileStage(ExpandedVariant v, Ctx ctx)
    {
        var c = v.Common;
        var path = $"variants.{v.Name}";
        var options = ctx.Options;
        if (v.IsScratch)
        {
            // Scratch: only the copies (root-owned) and the entry point (blubber-v4 §7.6).
            var install = new List<Instruction>(PlatformArgs(options));
            install.AddRange(ExpandCopies(v, ctx, chown: null, path));
            // An empty list replaces an inherited one but, as in Blubber, writes nothing (the base image's stays).
            var post = c.Entrypoint is not { Count: > 0 } ? new List<Instruction>() : [new EntrypointInstruction(c.Entrypoint)];
            if (v.Name == ctx.Expanded.Target.Name && options.RunVariant) post.Add(RunVariantStep(v, ctx));
            return new Stage(v.Name, "", [new(Phase.Install, install), new(Phase.PostInstall, post)]);
        }

        var lives = c.Lives;
        var runs = c.Runs;
        var privileged = new List<Instruction> { new UserInstruction("0"), Env("HOME", "/root") };
        privileged.AddRange(PlatformArgs(options));
        // A build-arg given in the options becomes the ARG's default, so the Dockerfile alone builds the same image.
        foreach (var (k, val) in c.Arguments.OrderBy(a => a.Key, StringComparer.Ordinal))
            privileged.Add(new ArgInstruction(k, BuildArg(ctx, k) ?? val));
        privileged.AddRange(Apt(c.Apt));
        privileged.Add(new ArgInstruction("LIVES_AS", BuildArg(ctx, "LIVES_AS") ?? lives.As!));
        privileged.Add(new ArgInstruction("LIVES_UID", BuildArg(ctx, "LIVES_UID") ?? lives.Uid!.Value.ToString()));
        privileged.Add(new ArgInstruction("LIVES_GID", BuildArg(ctx, "LIVES_GID") ?? lives.Gid!.Value.ToString()));
        privileged.Add(new RunInstruction([.. CreateUser("LIVES"),
            $"mkdir -p {Q(lives.In!)} && chown \"$LIVES_UID\":\"$LIVES_GID\" {Q(lives.In!)}",
            $"mkdir -p {Q(LibDir)} && chown \"$LIVES_UID\":\"$LIVES_GID\" {Q(LibDir)}"]));
        privileged.Add(new ArgInstruction("RUNS_AS", BuildArg(ctx, "RUNS_AS") ?? runs.As!));
        privileged.Add(new ArgInstruction("RUNS_UID", BuildArg(ctx, "RUNS_UID") ?? runs.Uid!.Value.ToString()));
        privileged.Add(new ArgInstruction("RUNS_GID", BuildArg(ctx, "RUNS_GID") ?? runs.Gid!.Value.ToString()));
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
        var workdirs = ctx.Workdirs;
        foreach (var b in Builders(c))
        {
            if (b.Node is { } node) NodeSteps(node, v, ctx, preInstall, postInstall);
            else if (b.Php is { } php) PhpSteps(php, v, ctx, preInstall);
            else if (b.Python is { } py) PythonSteps(py, v, ctx, preInstall, postInstall);
            else if (b.Custom is { } custom) CustomSteps(custom, v, ctx, preInstall, path);
        }
        if (runs.In is not null) postInstall.Add(new WorkingDirectoryInstruction(runs.In));
        if (c.Entrypoint is { Count: > 0 }) postInstall.Add(new EntrypointInstruction(c.Entrypoint));
        if (v.Name == ctx.Expanded.Target.Name && options.RunVariant) postInstall.Add(RunVariantStep(v, ctx));

        var installs = ExpandCopies(v, ctx, Chown, path);
        return new Stage(v.Name, c.Base!, [
            new(Phase.Privileged, privileged), new(Phase.PrivilegeDropped, dropped), new(Phase.PreInstall, preInstall),
            new(Phase.Install, installs), new(Phase.PostInstall, postInstall)]);
    }

    /// <summary>
    /// Blubber sets BuildKit's build and target platform variables in every step's environment (build/target.go
    /// BuildEnv); the Dockerfile frontend fills them in a stage that declares them without a value. The classic
    /// builder has no such values, so it gets none.
    /// </summary>
    private static IEnumerable<Instruction> PlatformArgs(CompileOptions options) =>
        options.BuildKit ? BaseImageConfig.PlatformNames.Select(n => new PlatformArgInstruction(n)) : [];

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
                var (scheme, host) = UrlParts(p.Source ?? p.Url);
                return p.Source is null ? $"Acquire::{scheme}::Proxy \"{p.Url}\";" : $"Acquire::{scheme}::Proxy::{host} \"{p.Url}\";";
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
                $"printf '%s\\n' {string.Join(' ', lines.Select(Lit))} > \"/etc/apt/sources.list.d/99blubber.list\""]) { NeedsNetwork = true };
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
        yield return new RunInstruction(commands) { NeedsNetwork = targets.Count > 0 };
    }

    // Go's url.Parse as far as apt's proxy lines use it: the scheme (lower case) and the host[:port].
    private static (string Scheme, string Host) UrlParts(string url)
    {
        var colon = url.IndexOf(':');
        var scheme = url[..colon].ToLowerInvariant();
        var rest = url[(colon + 1)..];
        if (!rest.StartsWith("//", StringComparison.Ordinal)) return (scheme, "");
        rest = rest[2..];
        var end = rest.IndexOfAny(['/', '?', '#']);
        var host = end < 0 ? rest : rest[..end];
        return (scheme, host[(host.LastIndexOf('@') + 1)..]);
    }

    private static string KeyringPath(string key) =>
        $"/etc/apt/keyrings/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}.asc";

    private static void NodeSteps(NodeBuilder node, ExpandedVariant v, Ctx ctx, List<Instruction> pre, List<Instruction> post)
    {
        var reqs = node.Requirements ?? [];
        if (reqs.Count > 0)
        {
            pre.AddRange(RequirementCopies(reqs, ctx, v));
            var install = node.UseNpmCi == true ? "npm ci" : "npm install";
            if (node.Env == "production") install += " --only=production";
            var commands = new List<string> { install };
            if (node.Env == "production")
                commands.Add(node.AllowDedupeFailure == true ? "npm dedupe || echo \"WARNING: npm dedupe failed, continuing anyways\"" : "npm dedupe");
            pre.Add(new RunInstruction(commands) { NeedsNetwork = true });
        }
        if (node.Env is not null || reqs.Count > 0) post.Add(Env("NODE_ENV", node.Env ?? ""));
    }

    private static void PhpSteps(PhpBuilder php, ExpandedVariant v, Ctx ctx, List<Instruction> pre)
    {
        var reqs = php.Requirements ?? [];
        if (reqs.Count == 0) return;
        pre.AddRange(RequirementCopies(reqs, ctx, v));
        pre.Add(new RunInstruction([php.Production == true ? "composer install \"--no-scripts\" \"--no-dev\"" : "composer install \"--no-scripts\""]) { NeedsNetwork = true });
    }

    private static void PythonSteps(PythonBuilder py, ExpandedVariant v, Ctx ctx, List<Instruction> pre, List<Instruction> post)
    {
        var workdirs = ctx.Workdirs;
        if (string.IsNullOrEmpty(py.Version) || py.Requirements is null) return;
        var bin = py.Version;
        var venv = py.Venv ?? $"{LibDir}/venv";
        pre.AddRange(RequirementCopies(py.Requirements, ctx, v));
        pre.Add(new RunInstruction([$"{bin} -m venv {Q(venv)}" + (py.UseSystemSitePackages == true ? " \"--system-site-packages\"" : "")]));
        pre.Add(new EnvInstruction([new("PATH", $"{venv}/bin:$PATH"), new("VIRTUAL_ENV", venv)]));
        var pip = py.PipVersion is null && bin.StartsWith("python2", StringComparison.Ordinal) ? "pip<21" : "pip" + Spec(py.PipVersion);
        pre.Add(new RunInstruction([
            $"{bin} -m pip install -U {Q("setuptools" + (py.SetuptoolsVersion is null ? "!=60.9.0" : Spec(py.SetuptoolsVersion)))}",
            $"{bin} -m pip install -U {Q("wheel" + Spec(py.WheelVersion))} {Q("tox" + Spec(py.ToxVersion))} {Q(pip)}"]) { NeedsNetwork = true });
        if (py.Poetry?.Version is { } poetryVersion)
        {
            pre.Add(Env("POETRY_VIRTUALENVS_PATH", $"{LibDir}/poetry"));
            var install = "poetry install --no-root";
            if (py.Poetry.Only is { Count: > 0 } only) install += $" --only {Q(string.Join(',', only))}";
            if (py.Poetry.Without is { Count: > 0 } without) install += $" --without {Q(string.Join(',', without))}";
            if (py.Poetry.Only is not { Count: > 0 } && py.Poetry.Without is not { Count: > 0 } && py.Poetry.Devel != true) install += " --no-dev";
            pre.Add(new RunInstruction([$"{bin} -m pip install -U {Q("poetry" + Spec(poetryVersion))}", $"mkdir -p {Q($"{LibDir}/poetry")}", install]) { NeedsNetwork = true });
        }
        else if (py.Requirements.Count > 0)
        {
            var files = py.Requirements.Select(r => EffectiveDestination(r, workdirs)).Select(d => $"-r {Q(d)}");
            pre.Add(new RunInstruction([$"{bin} -m pip install" + (py.NoDeps == true ? " --no-deps" : "") + " " + string.Join(' ', files)]) { NeedsNetwork = true });
        }
        if (py.NoDeps == true && py.Poetry?.Version is null) post.Add(new RunInstruction([$"{bin} -m pip check"]));
    }

    private static string Spec(string? version) =>
        version is null ? "" : char.IsAsciiDigit(version[0]) ? "==" + version : version;

    private static void CustomSteps(CustomBuilder b, ExpandedVariant v, Ctx ctx, List<Instruction> pre, string path)
    {
        if (!ctx.Options.BuildKit)
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
        }
        if (b.Requirements is { Count: > 0 } reqs) pre.AddRange(RequirementCopies(reqs, ctx, v));
        var mounts = BuildKitMounts(b, v, ctx, path);
        if (b.Script is { Length: > 0 } script)
        {
            var (helper, dir) = ScriptStage(script, v, ctx);
            pre.Add(new RunInstruction([])
            {
                Exec = [$"{dir}/script"],
                Mounts = [new BindMount(dir, helper, ScriptDir, ReadWrite: false), .. mounts],
                NeedsNetwork = true,
            });
        }
        else if (b.ShellCommand is { Length: > 0 } shell) pre.Add(new RunInstruction([shell]) { Mounts = mounts, NeedsNetwork = true });
        else if (b.Command is { Count: > 0 } cmd)
            pre.Add(new RunInstruction([string.Join(' ', [cmd[0], .. cmd.Skip(1).Select(Q)])]) { Mounts = mounts, NeedsNetwork = true });
    }

    private const string ScriptDir = "/slipway-script";

    /// <summary>
    /// Blubber writes a builder script into a scratch filesystem mounted read-only at <c>/&lt;sha256&gt;/</c> and runs
    /// <c>/&lt;sha256&gt;/script</c>, so it never lands in the image. The built-in Dockerfile frontend cannot create a
    /// file from text, so a helper stage on the variant's base (which has /bin/sh, as Blubber requires) writes it with
    /// printf (every byte escaped: the file is exactly the script), and the step bind-mounts that stage's directory.
    /// </summary>
    private static (string Stage, string MountDir) ScriptStage(string script, ExpandedVariant v, Ctx ctx)
    {
        var content = script.StartsWith("#!", StringComparison.Ordinal) ? script : "#!/bin/sh\n" + script;
        var bytes = Encoding.UTF8.GetBytes(content);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var name = $"slipway-script-{v.Name}-{sha[..12]}";
        if (!ctx.Helpers.Any(h => h.Name == name))
        {
            var chunks = new List<string> { $"mkdir -p {ScriptDir}", $": > {ScriptDir}/script" };
            var sb = new StringBuilder();
            foreach (var by in bytes)
            {
                sb.Append(by is >= 0x20 and < 0x7f and not ((byte)'\\' or (byte)'%' or (byte)'\'') ? ((char)by).ToString() : $"\\{Convert.ToString(by, 8).PadLeft(3, '0')}");
                if (sb.Length >= 2000) { chunks.Add($"printf '{sb}' >> {ScriptDir}/script"); sb.Clear(); }
            }
            if (sb.Length > 0) chunks.Add($"printf '{sb}' >> {ScriptDir}/script");
            chunks.Add($"chmod 0555 {ScriptDir}/script");
            ctx.Helpers.Add(new Stage(name, v.Common.Base!, [new(Phase.Privileged, [new UserInstruction("0"), new RunInstruction(chunks)])]) { IsHelper = true });
        }
        return (name, "/" + sha);
    }

    /// <summary>A builder's <c>mounts</c> and <c>caches</c> as RUN --mount flags (blubber-v4 §3.4).</summary>
    private static List<RunMount> BuildKitMounts(CustomBuilder b, ExpandedVariant v, Ctx ctx, string path)
    {
        var result = new List<RunMount>();
        if (b.Mounts is null && b.Caches is null) return result;
        var env = CompileEnv(v, ctx);
        var workdir = v.WorkingDirectory;
        string Field(string name, string raw, bool resolve)
        {
            var value = ExpandEnv(raw, env, v, ctx, name, path, b.Line);
            if (resolve && !value.StartsWith('/')) value = Validators.CleanPath(workdir + "/" + value);
            if (value.Length == 0 || value.Any(ch => ch is ',' or '"' or '\'' or '=' || char.IsWhiteSpace(ch) || char.IsControl(ch)))
                throw new BlubberException(BlubberErrorKind.Validation,
                    $"{name}: \"{value}\" must not be empty or contain commas, quotes, \"=\" or whitespace ({YNode.StricterThanBlubber}: the value is written into a RUN --mount flag, whose comma-separated fields it would split)",
                    path, b.Line);
            return value;
        }
        foreach (var m in b.Mounts ?? [])
        {
            var target = Field("mounts.destination", m.Destination ?? ".", resolve: true);
            var source = m.Source is null ? "/" : Field("mounts.source", m.Source, resolve: false);
            // Blubber's code pulls an image named "local" here (an inverted error check); the documented intent is the build context.
            var from = m.From == Artifact.Local ? null : m.From;
            if (from is null && source == "/") source = ".";
            result.Add(new BindMount(target, from, source, ReadWrite: true));
        }
        if (b.Caches is { Count: > 0 } caches)
        {
            var scope = ctx.Options.CacheScope;
            if (string.IsNullOrEmpty(scope) || !System.Text.RegularExpressions.Regex.IsMatch(scope, @"^[A-Za-z0-9._/\-]{1,200}$"))
                throw new BlubberException(BlubberErrorKind.Expansion,
                    "caches: need the project's cache scope (letters, digits, . _ / -), so that caches are never shared between projects", path, b.Line);
            var uid = uint.Parse(BuildArg(ctx, "LIVES_UID") ?? v.Common.Lives.Uid!.Value.ToString());
            var gid = uint.Parse(BuildArg(ctx, "LIVES_GID") ?? v.Common.Lives.Gid!.Value.ToString());
            foreach (var cache in caches)
            {
                var destination = ExpandEnv(cache.Destination, env, v, ctx, "caches.destination", path, b.Line);
                var id = cache.Id is null ? destination : Field("caches.id", cache.Id, resolve: false);
                result.Add(new CacheMount(Field("caches.destination", destination, resolve: true),
                    Field("caches.id", $"slipway/{scope}/{id.TrimStart('/')}", resolve: false), cache.Access ?? "shared", uid, gid));
            }
        }
        return result;
    }

    /// <summary>
    /// The build environment a builder step sees, as Blubber's build state has it: the base image's environment (when
    /// known), then the platform variables, then what the config sets (Blubber expands against it).
    /// </summary>
    private static Dictionary<string, string> CompileEnv(ExpandedVariant v, Ctx ctx)
    {
        var c = v.Common;
        var env = BaseConfig(v, ctx)?.Environment() ?? new Dictionary<string, string>(StringComparer.Ordinal);
        env["HOME"] = $"/home/{c.Lives.As}";
        env["LIVES_AS"] = BuildArg(ctx, "LIVES_AS") ?? c.Lives.As!;
        env["LIVES_UID"] = BuildArg(ctx, "LIVES_UID") ?? c.Lives.Uid!.Value.ToString();
        env["LIVES_GID"] = BuildArg(ctx, "LIVES_GID") ?? c.Lives.Gid!.Value.ToString();
        env["RUNS_AS"] = BuildArg(ctx, "RUNS_AS") ?? c.Runs.As!;
        env["RUNS_UID"] = BuildArg(ctx, "RUNS_UID") ?? c.Runs.Uid!.Value.ToString();
        env["RUNS_GID"] = BuildArg(ctx, "RUNS_GID") ?? c.Runs.Gid!.Value.ToString();
        foreach (var (k, val) in c.Arguments) env[k] = BuildArg(ctx, k) ?? val;
        foreach (var (k, val) in c.Runs.Environment) env[k] = val;
        return env;
    }

    /// <summary>
    /// Go's os.Expand of <c>$NAME</c>/<c>${NAME}</c> against the build environment, as Blubber's ExpandEnv: a name set
    /// nowhere expands to nothing. A name the config does not set comes from the base image, so without the base
    /// image's config it is refused (<see cref="BlubberException.NeedsBaseImage"/>) rather than expanded to something
    /// else than Blubber would; so are the platform variables when the image's platform is unknown.
    /// </summary>
    private static string ExpandEnv(string s, IReadOnlyDictionary<string, string> env, ExpandedVariant v, Ctx ctx, string field, string path, int line)
    {
        var image = BaseConfig(v, ctx);
        var m = System.Text.RegularExpressions.Regex.Replace(s, @"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))", match =>
        {
            var name = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
            if (env.TryGetValue(name, out var value)) return value;
            if (image is null)
                throw new BlubberException(BlubberErrorKind.Expansion,
                    $"{field}: \"${name}\" is not set by the config, so Blubber takes it from the environment of the base image \"{v.Common.Base}\", whose config is needed to expand it (the builder reads it from the image; offline, write the value)",
                    path, line) { NeedsBaseImage = v.Common.Base };
            if (BaseImageConfig.IsPlatformName(name))
                throw new BlubberException(BlubberErrorKind.Expansion,
                    $"{field}: \"${name}\" is the build platform, which is not known when the Dockerfile is written (the base image's platform is not known); write the value",
                    path, line);
            return "";
        });
        return m;
    }

    /// <summary>
    /// Blubber's <c>run-variant</c>: the target's entry point (plus <c>entrypoint-args</c>, with <c>run-variant-env</c>
    /// for this step only) runs as the last build step, never cached, its files part of the image. A nonce in the step's
    /// text defeats the layer cache; the environment is exported by a tiny sh wrapper so that it stays out of the image.
    /// </summary>
    private static RunInstruction RunVariantStep(ExpandedVariant v, Ctx ctx)
    {
        var path = $"variants.{v.Name}";
        var entrypoint = v.Common.Entrypoint is { Count: > 0 } own ? own : InheritedEntrypoint(v, ctx, path);
        var env = (ctx.Options.RunVariantEnv ?? new Dictionary<string, string>()).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        // Blubber sets any key; the step exports them from sh, which needs shell variable names.
        foreach (var (k, _) in env)
            if (!System.Text.RegularExpressions.Regex.IsMatch(k, "^[A-Za-z_][A-Za-z0-9_]{0,127}$"))
                throw new BlubberException(BlubberErrorKind.Validation,
                    $"run-variant-env: \"{k}\" is not a valid environment variable name ({YNode.StricterThanBlubber}: the step exports it from sh)", path, v.Line);
        var nonce = ctx.Options.RunVariantNonce ?? Guid.NewGuid().ToString("N");
        if (!System.Text.RegularExpressions.Regex.IsMatch(nonce, "^[A-Za-z0-9_.-]{1,64}$"))
            throw new BlubberException(BlubberErrorKind.Validation, "run-variant: the nonce must be 1-64 letters, digits, _ . -", path, v.Line);
        List<string> argv = [.. entrypoint, .. ctx.Options.EntrypointArgs ?? []];
        if (argv.Count == 0)
            throw new BlubberException(BlubberErrorKind.Expansion, v.IsScratch
                ? $"run-variant: variant \"{v.Name}\" has no entrypoint, and a scratch image inherits none: there is nothing to run"
                : $"run-variant: variant \"{v.Name}\" has no entrypoint, and neither has its base image \"{v.Common.Base}\""
                  + (BaseConfig(v, ctx)?.Cmd is { Count: > 0 } ? " (it has a CMD, which Blubber's run-variant does not run)" : "") + ": there is nothing to run",
                path, v.Line);
        if (v.IsScratch)
        {
            if (env.Count > 0)
                throw new BlubberException(BlubberErrorKind.Expansion, "run-variant-env: a scratch variant has no shell to set the environment with", path, v.Line);
            return new RunInstruction([]) { Exec = argv };
        }
        var exports = string.Join(' ', env.Select((e, i) => $"{e.Key}=\"${{{i + 1}}}\""));
        var wrapper = (env.Count > 0 ? $"export {exports}; shift {env.Count}; " : "") + "exec \"$@\"";
        return new RunInstruction([]) { Exec = ["/bin/sh", "-c", wrapper, $"slipway-run-variant-{nonce}", .. env.Select(e => e.Value), .. argv] };
    }

    /// <summary>
    /// The entry point a variant without its own inherits: Blubber runs the base image's <c>ENTRYPOINT</c> (never its
    /// <c>CMD</c>), which only the base image's config tells.
    /// </summary>
    private static IReadOnlyList<string> InheritedEntrypoint(ExpandedVariant v, Ctx ctx, string path) =>
        BaseConfig(v, ctx) is { } config ? config.Entrypoint ?? []
        : throw new BlubberException(BlubberErrorKind.Expansion,
            $"run-variant: variant \"{v.Name}\" has no entrypoint of its own, so Blubber runs the one of its base image \"{v.Common.Base}\", whose config is needed to know it (the builder reads it from the image; offline, set the variant's entrypoint)",
            path, v.Line) { NeedsBaseImage = v.Common.Base };

    // Requirements: grouped by from, then by normalized destination, first-seen order; one COPY per group, whose
    // exclude patterns are those of all its entries (Blubber's RequirementsConfig). With patterns, a group is copied
    // source by source through the same exclusion as copies.
    private static IEnumerable<Instruction> RequirementCopies(IReadOnlyList<Artifact> reqs, Ctx ctx, ExpandedVariant v)
    {
        var path = $"variants.{v.Name}";
        var chown = v.IsScratch ? null : Chown;
        var groups = new List<(string From, string Dest, List<string> Sources, List<string> Exclude, int Line)>();
        foreach (var a in reqs)
        {
            var (src, dest) = Normalize(a, ctx.Workdirs);
            var g = groups.FindIndex(x => x.From == a.From && x.Dest == dest);
            if (g < 0) groups.Add((a.From, dest, [src], [.. a.Exclude], a.Line));
            else
            {
                groups[g].Sources.Add(src);
                groups[g].Exclude.AddRange(a.Exclude);
            }
        }
        var result = new List<Instruction>();
        foreach (var (from, dest, sources, exclude, line) in groups)
        {
            var target = sources.Count > 1 && !dest.EndsWith('/') ? dest + "/" : dest;
            if (exclude.Count == 0)
            {
                result.Add(new CopyInstruction(sources, target, chown, from == Artifact.Local ? null : from));
                continue;
            }
            var artifact = new Artifact(from, null, null, exclude, line);
            foreach (var src in sources)
                if (from == Artifact.Local) result.AddRange(LocalCopy(artifact, src, target, chown, ctx.Options, path));
                else result.Add(RemoteCopy(artifact, src, target, chown, v, ctx, path));
        }
        return result;
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

    private static List<Instruction> ExpandCopies(ExpandedVariant v, Ctx ctx, string? chown, string path)
    {
        var options = ctx.Options;
        var workdirs = ctx.Workdirs;
        var result = new List<Instruction>();
        foreach (var a in v.Copies)
        {
            string? from = a.IsLocal ? null : a.From;
            if (a.Source is null && a.Destination is null)
            {
                if (a.IsLocal) result.AddRange(LocalCopy(a, ".", ".", chown, options, path));
                else
                {
                    var own = v.WorkingDirectory;
                    result.Add(RemoteCopy(a, own, own, chown, v, ctx, path));
                    result.Add(RemoteCopy(a, LibDir, LibDir, chown, v, ctx, path));
                }
                continue;
            }
            var src = a.Source!;
            var dest = a.Destination ?? src;
            if (a.IsLocal) result.AddRange(LocalCopy(a, src, dest, chown, options, path));
            else result.Add(RemoteCopy(a, Resolve(a, src, workdirs), dest, chown, v, ctx, path));
        }
        return result;
    }

    /// <summary>
    /// A copy from another variant or an image. With <c>exclude</c>, the built-in frontend has no COPY --exclude, so a
    /// helper stage on a base with a shell bind-mounts the source, copies what the patterns keep (the same
    /// .dockerignore semantics as everywhere: last match wins, <c>!</c> re-includes, a directory excludes what is below
    /// it) to /slipway-out/&lt;source's name&gt;, and the variant copies that. Empty directories are not copied.
    /// </summary>
    private static CopyInstruction RemoteCopy(Artifact a, string source, string dest, string? chown, ExpandedVariant v, Ctx ctx, string path)
    {
        if (a.Exclude.Count == 0) return new CopyInstruction([source], dest, chown, a.From);
        if (!ctx.Options.BuildKit)
            throw new BlubberException(BlubberErrorKind.Expansion,
                "exclude: is only supported for copies from \"local\" (a classic Dockerfile COPY --from cannot exclude files)", $"{path}.copies", a.Line);
        var shellBase = !v.IsScratch ? v.Common.Base
            : ctx.Expanded.Stages.FirstOrDefault(s => s.Name == a.From) is { IsScratch: false } s ? s.Common.Base : null;
        if (shellBase is null)
            throw new BlubberException(BlubberErrorKind.Expansion,
                $"exclude: on a copy from \"{a.From}\" needs a base image with a shell (find, awk, cp) to filter with; neither variant has one", $"{path}.copies", a.Line);
        var patterns = DockerIgnore.ToEre(a.Exclude);
        if (patterns is null)
            throw new BlubberException(BlubberErrorKind.Validation,
                $"exclude: patterns with a backslash are not supported on copies from other variants or images ({YNode.StricterThanBlubber})", $"{path}.copies", a.Line);
        if (source.Any(ch => ch is ',' or '"' or '\'' or '=' || char.IsWhiteSpace(ch)))
            throw new BlubberException(BlubberErrorKind.Validation,
                $"source: \"{source}\" must not contain commas, quotes, \"=\" or whitespace when \"exclude\" is set ({YNode.StricterThanBlubber}: the copy runs through a RUN --mount flag)", $"{path}.copies", a.Line);
        var name = $"slipway-exclude-{v.Name}-{++ctx.HelperCount}";
        var exports = string.Join(' ', patterns.Select((p, i) => $"SLIPWAY_X{i + 1}={Lit(p.Ere)}"));
        var negated = string.Concat(patterns.Select(p => p.Negate ? '1' : '0'));
        const string awk = "function m(r, p) { while (1) { if (p ~ r) return 1; if (index(p, \"/\") == 0) return 0; sub(/\\/[^\\/]*$/, \"\", p) } } "
            + "{ keep = 1; for (i = 1; i <= n; i++) if (m(ENVIRON[\"SLIPWAY_X\" i], $0)) keep = (substr(ENVIRON[\"SLIPWAY_N\"], i, 1) == \"1\"); if (keep) print }";
        var filter = $"awk -v n={patterns.Count} {Lit(awk)}";
        // The kept tree is named like the source, so a file copied into a directory keeps its name, as COPY does.
        var baseName = source.TrimEnd('/');
        baseName = baseName[(baseName.LastIndexOf('/') + 1)..];
        if (baseName is "" or "." or "..") baseName = "item";
        var output = $"/slipway-out/{baseName}";
        var commands = new List<string>
        {
            $"export {exports} SLIPWAY_N={negated} SLIPWAY_OUT={Lit(output)}",
            "mkdir -p /slipway-out",
            "if [ -d /slipway-in ]; then mkdir -p \"$SLIPWAY_OUT\" && cd /slipway-in && find . -mindepth 1 ! -type d -print | sed 's|^\\./||' | "
            + filter + " | while IFS= read -r f; do mkdir -p \"$SLIPWAY_OUT/$(dirname \"$f\")\" && cp -pP \"$f\" \"$SLIPWAY_OUT/$f\" || exit 1; done; "
            + $"elif printf '%s\\n' {Lit(baseName)} | {filter} | grep -q .; then cp -pP /slipway-in \"$SLIPWAY_OUT\"; else mkdir -p \"$SLIPWAY_OUT\"; fi",
        };
        ctx.Helpers.Add(new Stage(name, shellBase, [new(Phase.Privileged, [new UserInstruction("0"),
            new RunInstruction(commands) { Mounts = [new BindMount("/slipway-in", a.From, source.Length == 0 ? "/" : source, ReadWrite: false)] }])]) { IsHelper = true });
        return new CopyInstruction([output], dest, chown, name);
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
