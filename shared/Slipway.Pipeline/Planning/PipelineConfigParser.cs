using System.Text.RegularExpressions;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Checks <c>.pipeline/config.yaml</c> against the shape of PipelineLib's <c>pipelines.v0</c> schema and builds a
/// <see cref="PipelineConfig"/>. Unknown keys are refused wherever the schema says <c>additionalProperties: false</c>;
/// where it does not (the top level, a pipeline, <c>deploy.chart</c>) PipelineLib's ajv check passes them and its code
/// never reads them, so they are ignored here too, each named in <see cref="PipelineConfig.Ignored"/> (a misspelt key is
/// shown, not silently dropped).
/// The first problem found is reported with its key path and line. PipelineLib's own code checks (reserved names,
/// execution shape, allowed actions) are in <see cref="PipelineValidator"/>.
/// </summary>
public static partial class PipelineConfigParser
{
    private static readonly string[] PipelineKeys = ["blubberfile", "directory", "fetch", "notify", "execution", "stages"];
    private static readonly string[] StageKeys =
        ["name", "blubberfile", "build", "run", "copy", "publish", "deploy", "promote", "notify", "trigger", "exports"];

    public static PipelineConfig Parse(string text, string fileName = PipelineConfig.DefaultPath, PipelineConfigLimits? limits = null)
    {
        var root = ConfigYamlReader.Load(text, fileName, limits);
        var v = new Checker(fileName);
        var rootMap = v.Map(root, "config");
        v.KnownKeys(rootMap, "config", ["pipelines"]);
        var pipelinesNode = rootMap.Get("pipelines") ?? throw v.Fail(root, "config", "`pipelines` is required");
        var pipelines = new List<PipelineDefinition>();
        var refused = new List<PlanRefusal>();
        var names = new List<string>();
        foreach (var (name, keyLine, node) in v.Map(pipelinesNode, "pipelines").Entries)
        {
            var path = $"pipelines.{name}";
            names.Add(name);
            v.Pipeline = name;
            try
            {
                if (!NamePattern().IsMatch(name) || name.Length > 100)
                    throw v.Fail(keyLine, $"pipelines.{PipelinePlanner.Shown(name)}", "pipeline names must start with a letter or digit, use only letters, digits, '.', '_' and '-', and be at most 100 characters");
                pipelines.Add(ParsePipeline(v, name, node, path));
            }
            catch (PipelineConfigException e) // this pipeline alone is refused; the others still run
            {
                refused.Add(PlanRefusal.From(e, name, fileName));
            }
        }
        v.Pipeline = null;
        if (names.Count == 0) throw v.Fail(pipelinesNode, "pipelines", "at least one pipeline is required");
        return new PipelineConfig(pipelines) { Refused = refused, Names = names, Ignored = v.Ignored };
    }

    private static PipelineDefinition ParsePipeline(Checker v, string name, ConfigValue node, string path)
    {
        var map = v.Map(node, path);
        v.KnownKeys(map, path, PipelineKeys);
        var blubberfile = map.Get("blubberfile");
        if (blubberfile is not null) BlubberfileShape(v, blubberfile, $"{path}.blubberfile");
        var directory = map.Get("directory");
        if (directory is not null) v.Text(directory, $"{path}.directory");
        var fetch = map.Get("fetch") is { } f ? ParseFetch(v, f, $"{path}.fetch") : new FetchOptions();
        var notify = map.Get("notify");
        if (notify is not null) NotifyShape(v, notify, $"{path}.notify");
        var stagesNode = map.Get("stages") ?? throw v.Fail(node, path, "`stages` is required");
        var stages = new List<StageDefinition>();
        var items = v.List(stagesNode, $"{path}.stages").Items;
        // `stages: []` is valid (the schema has no minItems): PipelineLib runs an empty frame and the job passes; the
        // pipeline plans no step and succeeds at once (Wikimedia used it for no-op CI pipelines).
        for (var i = 0; i < items.Count; i++)
        {
            var stage = ParseStage(v, items[i], $"{path}.stages[{i}]");
            if (stages.Any(s => s.Name == stage.Name))
                throw v.Fail(items[i], $"{path}.stages[{i}]", $"stage `{stage.Name}` is defined more than once");
            stages.Add(stage);
        }
        // execution's shape is PipelineLib's code check, reported with the other validation errors.
        return new PipelineDefinition(name, node.Line, blubberfile, directory, fetch, notify, map.Get("execution"), stages);
    }

    private static FetchOptions ParseFetch(Checker v, ConfigValue node, string path)
    {
        var map = v.Map(node, path);
        v.Keys(map, path, ["shallow", "depth", "submodules", "tags"]);
        var o = new FetchOptions();
        if (map.Get("shallow") is { } s) o = o with { Shallow = v.Bool(s, $"{path}.shallow") };
        if (map.Get("depth") is { } d) o = o with { Depth = (int)v.Int(d, $"{path}.depth", 0, 1_000_000) };
        if (map.Get("submodules") is { } sm) o = o with { Submodules = v.Bool(sm, $"{path}.submodules") };
        if (map.Get("tags") is { } t) o = o with { Tags = v.Bool(t, $"{path}.tags") };
        return o;
    }

    private static StageDefinition ParseStage(Checker v, ConfigValue node, string path)
    {
        var map = v.Map(node, path);
        v.Keys(map, path, StageKeys);
        var nameNode = map.Get("name") ?? throw v.Fail(node, path, "`name` is required");
        var name = v.Str(nameNode, $"{path}.name");
        if (!NamePattern().IsMatch(name) || name.Length > 100)
            throw v.Fail(nameNode, $"{path}.name", "stage names must start with a letter or digit, use only letters, digits, '.', '_' and '-', and be at most 100 characters");
        var s = new StageDefinition(name, node.Line,
            map.Get("blubberfile"), map.Get("build"), map.Get("run"), map.Get("copy"), map.Get("publish"),
            map.Get("deploy"), map.Get("promote"), map.Get("notify"), map.Get("trigger"), map.Get("exports"));
        if (s.Blubberfile is not null) BlubberfileShape(v, s.Blubberfile, $"{path}.blubberfile");
        if (s.Build is not null) BuildShape(v, s.Build, $"{path}.build");
        if (s.Run is not null) RunShape(v, s.Run, $"{path}.run");
        if (s.Copy is not null) CopyShape(v, s.Copy, $"{path}.copy");
        if (s.Publish is not null) PublishShape(v, s.Publish, $"{path}.publish");
        if (s.Deploy is not null) DeployShape(v, s.Deploy, $"{path}.deploy");
        if (s.Promote is not null) PromoteShape(v, s.Promote, $"{path}.promote");
        if (s.Notify is not null) NotifyShape(v, s.Notify, $"{path}.notify");
        if (s.Trigger is not null) TriggerShape(v, s.Trigger, $"{path}.trigger");
        if (s.Exports is not null)
            foreach (var e in v.Map(s.Exports, $"{path}.exports").Entries) v.Value(e.Value, $"{path}.exports.{e.Key}");
        return s;
    }

    private static void BlubberfileShape(Checker v, ConfigValue node, string path)
    {
        // An inline Blubber object (PipelineLib writes it to a temp file): Blubber checks it when the build is planned.
        if (node is ConfigMap m && !Checker.IsExpression(m)) { v.Value(m, path); return; }
        v.Text(node, path);
    }

    private static void BuildShape(Checker v, ConfigValue node, string path)
    {
        if (node is ConfigMap m && !Checker.IsExpression(m))
        {
            v.Keys(m, path, ["variant", "context", "excludes", "imagePullPolicy"]);
            foreach (var k in new[] { "variant", "context", "imagePullPolicy" })
                if (m.Get(k) is { } x) v.Text(x, $"{path}.{k}");
            if (m.Get("excludes") is { } ex) v.TextList(ex, $"{path}.excludes");
            return;
        }
        v.Text(node, path);
    }

    private static void RunShape(Checker v, ConfigValue node, string path)
    {
        if (node is ConfigScalar { Value: bool }) return;
        // pipelines.v0.yaml: `run` is a boolean or an object.
        if (node is not ConfigMap) throw v.Fail(node, path, $"must be true, false or a mapping, not a {node.TypeName}");
        var m = v.Map(node, path);
        if (Checker.IsExpression(m)) { v.Value(m, path); return; }
        v.Keys(m, path, ["image", "arguments", "env", "credentials", "tail"]);
        if (m.Get("image") is { } image) v.Text(image, $"{path}.image");
        if (m.Get("arguments") is { } args) v.TextList(args, $"{path}.arguments");
        if (m.Get("env") is { } env)
        {
            if (env is ConfigMap em && !Checker.IsExpression(em))
                foreach (var e in em.Entries) v.ScalarOrExpression(e.Value, $"{path}.env.{e.Key}");
            else v.Value(v.Map(env, $"{path}.env"), $"{path}.env");
        }
        if (m.Get("credentials") is { } creds)
            foreach (var (c, i) in v.List(creds, $"{path}.credentials").Items.Select((c, i) => (c, i)))
            {
                var cm = v.Map(c, $"{path}.credentials[{i}]");
                v.Keys(cm, $"{path}.credentials[{i}]", ["id", "name"]);
                foreach (var k in new[] { "id", "name" })
                    v.Str(cm.Get(k) ?? throw v.Fail(c, $"{path}.credentials[{i}]", $"`{k}` is required"), $"{path}.credentials[{i}].{k}");
            }
        if (m.Get("tail") is { } tail && tail is not ConfigScalar { Value: string }) v.Int(tail, $"{path}.tail", 0, 10_000);
    }

    private static void CopyShape(Checker v, ConfigValue node, string path)
    {
        if (node is ConfigMap cm && Checker.IsExpression(cm)) { v.Value(cm, path); return; }
        foreach (var (item, i) in v.List(node, path).Items.Select((c, i) => (c, i)))
        {
            if (item is ConfigScalar) { v.Text(item, $"{path}[{i}]"); continue; }
            var m = v.Map(item, $"{path}[{i}]");
            v.Keys(m, $"{path}[{i}]", ["from", "source", "destination", "archive"]);
            if (!m.Has("source")) throw v.Fail(item, $"{path}[{i}]", "`source` is required");
            foreach (var k in new[] { "from", "source", "destination" })
                if (m.Get(k) is { } x) v.Text(x, $"{path}[{i}].{k}");
            if (m.Get("archive") is { } a) v.Bool(a, $"{path}[{i}].archive");
        }
    }

    private static void PublishShape(Checker v, ConfigValue node, string path)
    {
        var m = v.Map(node, path);
        v.Keys(m, path, ["image"]);
        if (m.Get("image") is not { } image || image is ConfigScalar { Value: bool }) return;
        var im = v.Map(image, $"{path}.image");
        v.Keys(im, $"{path}.image", ["id", "name", "tag", "tags"]);
        foreach (var k in new[] { "id", "name", "tag" })
            if (im.Get(k) is { } x) v.Text(x, $"{path}.image.{k}");
        if (im.Get("tags") is { } tags) v.TextList(tags, $"{path}.image.tags");
    }

    private static void DeployShape(Checker v, ConfigValue node, string path)
    {
        var m = v.Map(node, path);
        v.Keys(m, path, ["image", "cluster", "chart", "tag", "test", "timeout", "overrides"]);
        foreach (var k in new[] { "image", "cluster", "tag" })
            if (m.Get(k) is { } x) v.Text(x, $"{path}.{k}");
        var chart = m.Get("chart") ?? throw v.Fail(node, path, "`chart` is required");
        var cm = v.Map(chart, $"{path}.chart");
        v.KnownKeys(cm, $"{path}.chart", ["name", "version"]);
        foreach (var k in new[] { "name", "version" })
            if (cm.Get(k) is { } x) v.Text(x, $"{path}.chart.{k}");
        if (m.Get("test") is { } t) v.Bool(t, $"{path}.test");
        if (m.Get("timeout") is { } to && to is not ConfigScalar { Value: null }) v.Int(to, $"{path}.timeout", 1, 86_400);
        if (m.Get("overrides") is { } o) v.Value(v.Map(o, $"{path}.overrides"), $"{path}.overrides");
    }

    private static void PromoteShape(Checker v, ConfigValue node, string path)
    {
        if (node is ConfigScalar { Value: bool }) return;
        if (node is ConfigMap pm && Checker.IsExpression(pm)) { v.Value(pm, path); return; }
        foreach (var (item, i) in v.List(node, path).Items.Select((c, i) => (c, i)))
        {
            var m = v.Map(item, $"{path}[{i}]");
            if (Checker.IsExpression(m)) { v.Value(m, $"{path}[{i}]"); continue; }
            v.Keys(m, $"{path}[{i}]", ["chart", "environments"]);
            if (m.Get("chart") is { } c) v.Text(c, $"{path}[{i}].chart");
            if (m.Get("environments") is { } e) v.TextList(e, $"{path}[{i}].environments");
        }
    }

    private static void NotifyShape(Checker v, ConfigValue node, string path)
    {
        var m = v.Map(node, path);
        v.Keys(m, path, ["email"]);
        if (m.Get("email") is not { } email) return;
        var em = v.Map(email, $"{path}.email");
        v.Keys(em, $"{path}.email", ["to", "subject", "body"]);
        if (em.Get("to") is { } to)
        {
            if (to is ConfigList) v.TextList(to, $"{path}.email.to");
            else v.Text(to, $"{path}.email.to");
        }
        foreach (var k in new[] { "subject", "body" })
            if (em.Get(k) is { } x) v.Text(x, $"{path}.email.{k}");
    }

    private static void TriggerShape(Checker v, ConfigValue node, string path)
    {
        var m = v.Map(node, path);
        v.Keys(m, path, ["name", "parameters", "propagate", "wait"]);
        v.Str(m.Get("name") ?? throw v.Fail(node, path, "`name` is required"), $"{path}.name");
        if (m.Get("parameters") is { } p)
            foreach (var e in v.Map(p, $"{path}.parameters").Entries) v.ScalarOrExpression(e.Value, $"{path}.parameters.{e.Key}");
        foreach (var k in new[] { "propagate", "wait" })
            if (m.Get(k) is { } b) v.Bool(b, $"{path}.{k}");
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z")] // \z: `$` would also match before a final line break
    internal static partial Regex NamePattern();

    /// <summary>Shape checks that fail with the file, line and key path.</summary>
    private sealed class Checker(string file)
    {
        private const int MaxIgnored = 100;

        /// <summary>Keys passed over by <see cref="KnownKeys"/>, at most <see cref="MaxIgnored"/> (a hostile file may hold thousands).</summary>
        public List<PlanRefusal> Ignored { get; } = [];

        /// <summary>The pipeline being checked (null at the top level): whose run shows a key ignored in it.</summary>
        public string? Pipeline { get; set; }

        public PipelineConfigException Fail(ConfigValue at, string path, string message) => Fail(at.Line, path, message);

        public PipelineConfigException Fail(int line, string path, string message) =>
            new($"{file}: line {line}: {path}: {message}", line);

        /// <summary>A <c>$merge</c> or list-comprehension object, which stands for a value wherever PipelineLib interpolates.</summary>
        public static bool IsExpression(ConfigMap m) => m.Entries.Count > 0 && m.Entries.All(e => e.Key.StartsWith('$'));

        public ConfigMap Map(ConfigValue node, string path) =>
            node as ConfigMap ?? throw Fail(node, path, $"must be a mapping, not a {node.TypeName}");

        public ConfigList List(ConfigValue node, string path) =>
            node as ConfigList ?? throw Fail(node, path, $"must be a list, not a {node.TypeName}");

        public void Keys(ConfigMap m, string path, string[] allowed)
        {
            foreach (var e in m.Entries)
                if (Array.IndexOf(allowed, e.Key) < 0)
                    throw Fail(e.KeyLine, path, $"unknown key `{e.Key}` (allowed: {string.Join(", ", allowed)})");
        }

        /// <summary>
        /// Where the schema allows any other key (no <c>additionalProperties: false</c>): the others are ignored, as
        /// PipelineLib ignores them, and named so a misspelt key is seen.
        /// </summary>
        public void KnownKeys(ConfigMap m, string path, string[] known)
        {
            foreach (var e in m.Entries)
                if (Array.IndexOf(known, e.Key) < 0 && Ignored.Count < MaxIgnored)
                    Ignored.Add(new PlanRefusal(Pipeline, $"{path}: key `{PipelinePlanner.Shown(e.Key)}` is ignored: PipelineLib's schema allows " +
                        $"other keys here and its code reads only {string.Join(", ", known)}", file, e.KeyLine));
        }

        public string Str(ConfigValue node, string path) =>
            node is ConfigScalar { Value: string s } ? s : throw Fail(node, path, $"must be a string, not a {node.TypeName}");

        public bool Bool(ConfigValue node, string path) =>
            node is ConfigScalar { Value: bool b } ? b : throw Fail(node, path, $"must be a boolean, not a {node.TypeName}");

        public long Int(ConfigValue node, string path, long min, long max) =>
            node is ConfigScalar { Value: long n } && n >= min && n <= max ? n
                : throw Fail(node, path, $"must be an integer from {min} to {max}");

        /// <summary>A string, or an expression that yields one.</summary>
        public void Text(ConfigValue node, string path)
        {
            if (node is ConfigMap m && IsExpression(m)) { Value(m, path); return; }
            Str(node, path);
        }

        /// <summary>A list of strings (numbers allowed, as YAML users write them), or an expression yielding one.</summary>
        public void TextList(ConfigValue node, string path)
        {
            if (node is ConfigMap m && IsExpression(m)) { Value(m, path); return; }
            foreach (var (item, i) in List(node, path).Items.Select((c, i) => (c, i))) ScalarOrExpression(item, $"{path}[{i}]");
        }

        public void ScalarOrExpression(ConfigValue node, string path)
        {
            if (node is ConfigScalar) return;
            if (node is ConfigMap m && IsExpression(m)) { Value(m, path); return; }
            throw Fail(node, path, $"must be a scalar, not a {node.TypeName}");
        }

        /// <summary>Any value; expression objects inside it must be well formed.</summary>
        public void Value(ConfigValue node, string path)
        {
            switch (node)
            {
                case ConfigList l:
                    for (var i = 0; i < l.Items.Count; i++) Value(l.Items[i], $"{path}[{i}]");
                    break;
                case ConfigMap m when m.Has("$merge") || m.Has("$with"):
                    Keys(m, path, ["$merge", "$with"]);
                    if (!m.Has("$merge") || !m.Has("$with")) throw Fail(node, path, "a merge expression needs both `$merge` and `$with`");
                    Value(m.Get("$merge")!, $"{path}.$merge");
                    Value(m.Get("$with")!, $"{path}.$with");
                    break;
                case ConfigMap m when m.Entries.Any(e => e.Key.StartsWith('$')):
                    Keys(m, path, ["$each", "$in", "$delimiter", "$yield"]);
                    if (!m.Has("$each") || !m.Has("$in")) throw Fail(node, path, "a list comprehension needs `$each` and `$in`");
                    var each = m.Get("$each")!;
                    if (each is ConfigList el) foreach (var x in el.Items) Str(x, $"{path}.$each");
                    else Str(each, $"{path}.$each");
                    if (m.Get("$delimiter") is { } d) Str(d, $"{path}.$delimiter");
                    Value(m.Get("$in")!, $"{path}.$in");
                    if (m.Get("$yield") is { } y) Value(y, $"{path}.$yield");
                    break;
                case ConfigMap m:
                    foreach (var e in m.Entries) Value(e.Value, $"{path}.{e.Key}");
                    break;
            }
        }
    }
}
