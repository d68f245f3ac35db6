using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Slipway.BuildConfig;

/// <summary>One enforcement: a dotted path into the (expanded) config and a validator-style rule.</summary>
public sealed record Enforcement(string Path, string Rule);

/// <summary>
/// A Blubber policy file (blubber-v4 §10), enforced after includes/copies expansion and before any
/// build. Supported rule tags: <c>required</c>, <c>omitempty</c>, <c>eq=</c>, <c>ne=</c>, <c>oneof=</c>,
/// <c>startswith=</c>, <c>endswith=</c>, <c>contains=</c>, <c>excludes=</c>, <c>isfalse</c>, <c>istrue</c>;
/// <c>,</c> is AND and <c>|</c> is OR, as in go-playground/validator.
/// Slipway's additions: a path part <c>*</c> matches every key of a map or item of a list (<c>variants.*.base</c>,
/// <c>variants.*.copies.*.from</c>; Blubber itself matches exact keys only), and the rule <c>registry=HOST[:PORT] ...</c>
/// requires an image reference whose registry is one of those, by exact host and port (<see cref="ImageReference"/>;
/// <c>startswith=</c> cannot say that: <c>registry.example.org.evil.com/x</c> starts with <c>registry.example.org</c>).
/// On a <c>from</c> field, <c>local</c> and the config's own variant names are not images and pass <c>registry=</c>.
/// </summary>
public sealed class Policy
{
    private static readonly string[] Tags =
        ["required", "omitempty", "eq", "ne", "oneof", "startswith", "endswith", "contains", "excludes", "isfalse", "istrue", "registry"];

    public Policy(IReadOnlyList<Enforcement> enforcements) => Enforcements = enforcements;

    public IReadOnlyList<Enforcement> Enforcements { get; }

    public static Policy Parse(string yaml)
    {
        try
        {
            if (yaml.Length > Limits.Default.MaxFileBytes) throw new FormatException("policy file too large");
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
                throw new FormatException("a policy must be a mapping with \"enforcements\"");
            var list = new List<Enforcement>();
            foreach (var (k, v) in root.Children)
            {
                if (k.ToString() != "enforcements") throw new FormatException($"unknown field \"{k}\"");
                if (v is not YamlSequenceNode seq) throw new FormatException("enforcements: must be a list");
                foreach (var item in seq.Children)
                {
                    if (item is not YamlMappingNode m) throw new FormatException($"line {item.Start.Line}: an enforcement must be a mapping with path and rule");
                    string? path = null, rule = null;
                    foreach (var (ek, ev) in m.Children)
                        switch (ek.ToString())
                        {
                            case "path": path = (ev as YamlScalarNode)?.Value; break;
                            case "rule": rule = (ev as YamlScalarNode)?.Value; break;
                            default: throw new FormatException($"line {ek.Start.Line}: unknown field \"{ek}\"");
                        }
                    if (string.IsNullOrEmpty(path) || string.IsNullOrEmpty(rule))
                        throw new FormatException($"line {m.Start.Line}: an enforcement needs both path and rule");
                    foreach (var tag in rule.Split(',').SelectMany(t => t.Split('|')))
                    {
                        if (!Tags.Contains(tag.Split('=')[0]))
                            throw new FormatException($"line {m.Start.Line}: unsupported rule \"{tag}\" (supported: {string.Join(", ", Tags)})");
                        if (tag.StartsWith("registry", StringComparison.Ordinal)
                            && (!tag.StartsWith("registry=", StringComparison.Ordinal)
                                || tag[9..].Split(' ', StringSplitOptions.RemoveEmptyEntries) is not { Length: > 0 } hosts
                                || hosts.Any(h => ImageReference.NormalizeRegistryEntry(h) is null)))
                            throw new FormatException($"line {m.Start.Line}: rule \"{tag}\" needs registry=HOST[:PORT] ... (space-separated hosts)");
                    }
                    list.Add(new Enforcement(path, rule));
                }
            }
            return new Policy(list);
        }
        catch (Exception e) when (e is FormatException or YamlDotNet.Core.YamlException)
        {
            throw new BlubberException(BlubberErrorKind.PolicyLoad, $"cannot load policy: {e.Message}");
        }
    }

    /// <summary>
    /// Checks every enforcement at every path it matches (<c>*</c> matches all keys or items); a path that resolves to
    /// nothing is skipped, as Blubber does. The message names the concrete path that failed.
    /// </summary>
    public void Enforce(ExpandedConfig expanded)
    {
        var tree = PolicyTree.Build(expanded);
        var variants = expanded.Config.Variants.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var e in Enforcements)
        {
            foreach (var (path, value) in PolicyTree.ResolveAll(tree, e.Path))
            {
                var isFrom = path.EndsWith(".from", StringComparison.Ordinal);
                if (!Satisfies(value, e.Rule, isFrom ? variants : null))
                    throw new BlubberException(BlubberErrorKind.PolicyViolation,
                        $"value: \"{PolicyTree.Display(value)}\", for \"{path}\" violates policy rule \"{e.Rule}\"");
            }
        }
    }

    private static bool Satisfies(object? value, string rule, HashSet<string>? notImages)
    {
        var text = PolicyTree.Display(value);
        var empty = value is null || text.Length == 0 || value is false || value is System.Collections.ICollection { Count: 0 };
        foreach (var all in rule.Split(','))
        {
            if (all == "omitempty") { if (empty) return true; continue; }
            if (!all.Split('|').Any(one => Check(one, value, text, empty, notImages))) return false;
        }
        return true;
    }

    private static bool Check(string tag, object? value, string text, bool empty, HashSet<string>? notImages)
    {
        var eq = tag.IndexOf('=');
        var name = eq < 0 ? tag : tag[..eq];
        var arg = eq < 0 ? "" : tag[(eq + 1)..];
        return name switch
        {
            "required" => !empty,
            "isfalse" => value is false or null,
            "istrue" => value is true,
            "eq" => text == arg,
            "ne" => text != arg,
            "oneof" => arg.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(text),
            "startswith" => text.StartsWith(arg, StringComparison.Ordinal),
            "endswith" => text.EndsWith(arg, StringComparison.Ordinal),
            "contains" => text.Contains(arg, StringComparison.Ordinal),
            "excludes" => !text.Contains(arg, StringComparison.Ordinal),
            "registry" => notImages is not null && (text == Artifact.Local || notImages.Contains(text))
                || ImageReference.TryParse(text) is { } image
                && arg.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ImageReference.NormalizeRegistryEntry).Any(r => r is not null && image.IsFrom(r)),
            _ => false,
        };
    }
}

/// <summary>The config as a tree of JSON names (maps, lists, strings, numbers, booleans) for policy paths.</summary>
internal static class PolicyTree
{
    public static Dictionary<string, object?> Build(ExpandedConfig expanded)
    {
        var root = Common(Merge.Common(CommonConfig.Defaults, expanded.Config.Common));
        root["version"] = expanded.Config.Version;
        var variants = new Dictionary<string, object?>();
        foreach (var v in expanded.Config.Variants)
        {
            var stage = expanded.Stages.FirstOrDefault(s => s.Name == v.Name);
            var node = stage is null ? Common(v.Common) : Common(stage.Common);
            node["includes"] = v.Includes.Select(i => (object?)i.Value).ToList();
            node["copies"] = (stage?.Copies ?? v.Copies).Select(a => (object?)Artifact(a)).ToList();
            variants[v.Name] = node;
        }
        root["variants"] = variants;
        return root;
    }

    private static Dictionary<string, object?> Common(CommonConfig c) => new()
    {
        ["base"] = c.Base ?? "",
        ["arguments"] = c.Arguments.ToDictionary(a => a.Key, a => (object?)a.Value),
        ["apt"] = new Dictionary<string, object?>
        {
            ["packages"] = c.Apt.Packages.ToDictionary(p => p.Key, p => (object?)p.Value.Select(x => (object?)x).ToList()),
            ["sources"] = c.Apt.Sources.Select(s => (object?)new Dictionary<string, object?> { ["url"] = s.Url, ["distribution"] = s.Distribution }).ToList(),
            ["proxies"] = c.Apt.Proxies.Select(p => (object?)new Dictionary<string, object?> { ["url"] = p.Url, ["source"] = p.Source }).ToList(),
        },
        ["node"] = c.Node is null ? null : new Dictionary<string, object?> { ["env"] = c.Node.Env, ["use-npm-ci"] = c.Node.UseNpmCi ?? false, ["allow-dedupe-failure"] = c.Node.AllowDedupeFailure ?? false },
        ["php"] = c.Php is null ? null : new Dictionary<string, object?> { ["production"] = c.Php.Production ?? false },
        ["python"] = c.Python is null ? null : new Dictionary<string, object?> { ["version"] = c.Python.Version, ["venv"] = c.Python.Venv, ["no-deps"] = c.Python.NoDeps ?? false },
        ["builder"] = c.Builder is null ? null : new Dictionary<string, object?>
        {
            ["command"] = c.Builder.ShellCommand ?? (c.Builder.Command is null ? null : string.Join(' ', c.Builder.Command)),
        },
        ["lives"] = new Dictionary<string, object?> { ["in"] = c.Lives.In, ["as"] = c.Lives.As, ["uid"] = c.Lives.Uid, ["gid"] = c.Lives.Gid },
        ["runs"] = new Dictionary<string, object?>
        {
            ["in"] = c.Runs.In, ["as"] = c.Runs.As, ["uid"] = c.Runs.Uid, ["gid"] = c.Runs.Gid, ["insecurely"] = c.Runs.Insecurely ?? false,
            ["environment"] = c.Runs.Environment.ToDictionary(a => a.Key, a => (object?)a.Value),
        },
        ["entrypoint"] = c.Entrypoint?.Select(x => (object?)x).ToList(),
    };

    private static Dictionary<string, object?> Artifact(Artifact a) => new()
    {
        ["from"] = a.From, ["source"] = a.Source, ["destination"] = a.Destination,
        ["exclude"] = a.Exclude.Select(x => (object?)x).ToList(),
    };

    /// <summary>Every (concrete path, value) that <paramref name="path"/> reaches; <c>*</c> fans out over map keys and list items.</summary>
    public static IEnumerable<(string Path, object? Value)> ResolveAll(object? node, string path)
    {
        var current = new List<(string Path, object? Value)> { ("", node) };
        foreach (var part in path.Split('.'))
        {
            var next = new List<(string, object?)>();
            foreach (var (at, value) in current)
            {
                var prefix = at.Length == 0 ? "" : at + ".";
                if (value is Dictionary<string, object?> map)
                {
                    if (part == "*") next.AddRange(map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (prefix + kv.Key, kv.Value)));
                    else if (map.TryGetValue(part, out var child)) next.Add((prefix + part, child));
                }
                else if (value is List<object?> list && part == "*")
                    next.AddRange(list.Select((item, i) => (prefix + i, item)));
            }
            current = next;
        }
        return current.Where(x => x.Value is not null);
    }

    public static string Display(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        uint u => u.ToString(CultureInfo.InvariantCulture),
        string s => s,
        List<object?> l => string.Join(' ', l.Select(Display)),
        _ => value.ToString() ?? "",
    };
}
