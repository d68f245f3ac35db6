using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Slipway.BuildConfig;

/// <summary>
/// A YAML node with its key path and line, read through a budget: every visit (also through an
/// alias, which YamlDotNet shares rather than copies) counts, so an alias bomb hits the node cap.
/// Merge keys (<c>&lt;&lt;: *anchor</c>) are applied as YAML 1.1 does (explicit keys win).
/// </summary>
internal sealed class YNode
{
    private readonly YamlNode _node;
    private readonly Budget _budget;
    private readonly int _depth;

    private YNode(YamlNode node, string path, Budget budget, int depth)
    {
        _node = node;
        Path = path;
        _budget = budget;
        _depth = depth;
        if (++budget.Nodes > budget.Limits.MaxNodes)
            throw Fail(BlubberErrorKind.Parse, $"config too large: more than {budget.Limits.MaxNodes} YAML nodes (after alias expansion)");
        if (depth > budget.Limits.MaxDepth)
            throw Fail(BlubberErrorKind.Parse, $"config too deeply nested: more than {budget.Limits.MaxDepth} levels");
    }

    public string Path { get; }
    public int Line => (int)_node.Start.Line;

    /// <summary>The name of this key (the last path element), for Blubber's <c>key: message</c> form.</summary>
    public string Key => Path.Contains('.') ? Path[(Path.LastIndexOf('.') + 1)..] : Path;

    public static YNode Load(string yaml, Limits limits)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(yaml) > limits.MaxFileBytes)
            throw new BlubberException(BlubberErrorKind.Parse, $"config too large: more than {limits.MaxFileBytes} bytes");
        var stream = new YamlStream();
        try
        {
            stream.Load(LastKeyWins.Parser(yaml));
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message;
            throw new BlubberException(BlubberErrorKind.Parse, $"invalid YAML: {(string.IsNullOrEmpty(inner) ? e.Message : inner)}", null, (int)e.Start.Line);
        }
        catch (ArgumentException e) // e.g. a duplicate key
        {
            throw new BlubberException(BlubberErrorKind.Parse, $"invalid YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1)
            throw new BlubberException(BlubberErrorKind.Parse, stream.Documents.Count == 0 ? "config is empty" : "config must be a single YAML document");
        var rootNode = stream.Documents[0].RootNode;
        var visited = 0;
        CountEagerly(rootNode, 0, ref visited, limits);
        return new YNode(rootNode, "", new Budget(limits), 0);
    }

    // Walks the whole document once, every alias expanded, so an alias bomb or absurd nesting is refused
    // wherever it hides (the typed walk later only visits known keys).
    private static void CountEagerly(YamlNode node, int depth, ref int visited, Limits limits)
    {
        if (++visited > limits.MaxNodes)
            throw new BlubberException(BlubberErrorKind.Parse, $"config too large: more than {limits.MaxNodes} YAML nodes (after alias expansion)", null, (int)node.Start.Line);
        if (depth > limits.MaxDepth)
            throw new BlubberException(BlubberErrorKind.Parse, $"config too deeply nested: more than {limits.MaxDepth} levels", null, (int)node.Start.Line);
        switch (node)
        {
            case YamlSequenceNode seq:
                foreach (var c in seq.Children) CountEagerly(c, depth + 1, ref visited, limits);
                break;
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    CountEagerly(k, depth + 1, ref visited, limits);
                    CountEagerly(v, depth + 1, ref visited, limits);
                }
                break;
        }
    }

    public BlubberException Fail(BlubberErrorKind kind, string detail) => new(kind, detail, Path.Length == 0 ? null : Path, Line);

    /// <summary>A validation failure in Blubber's <c>&lt;key&gt;: &lt;message&gt;</c> form.</summary>
    public BlubberException Invalid(string message) => Fail(BlubberErrorKind.Validation, $"{Key}: {message}");

    public bool IsNull => _node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };
    public bool IsMap => _node is YamlMappingNode;
    public bool IsList => _node is YamlSequenceNode;
    public bool IsScalar => _node is YamlScalarNode && !IsNull;

    public string Str()
    {
        if (_node is not YamlScalarNode s || IsNull) throw Fail(BlubberErrorKind.Parse, $"{Key}: must be a string");
        RefuseNonString(s);
        var v = s.Value ?? "";
        if (v.Length > _budget.Limits.MaxStringLength)
            throw Fail(BlubberErrorKind.Validation, $"{Key}: longer than {_budget.Limits.MaxStringLength} characters");
        if (v.Any(c => char.IsControl(c)))
            throw Fail(BlubberErrorKind.Validation, $"{Key}: must not contain control characters (newlines, tabs) ({StricterThanBlubber}: the value lands in a Dockerfile line, where a newline would start a new instruction)");
        return v;
    }

    // Blubber converts YAML to JSON first (go-yaml v2, YAML 1.1), so an unquoted 3.9, 10 or yes is a number or a
    // boolean there, which its schema and decoder refuse where a string is expected. Quote it: "3.9".
    private void RefuseNonString(YamlScalarNode s)
    {
        if (s.Style != ScalarStyle.Plain || s.Value is not { Length: > 0 } v) return;
        var kind = ResolvePlain(v);
        if (kind is not null) throw Fail(BlubberErrorKind.Parse, $"{Key}: expected string, but got {kind} (quote it: \"{v}\")");
    }

    /// <summary>What go-yaml v2 resolves an unquoted scalar to, when not a string: "number", "boolean" or null.</summary>
    internal static string? ResolvePlain(string v)
    {
        if (v is "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO" or "true" or "True" or "TRUE"
            or "false" or "False" or "FALSE" or "on" or "On" or "ON" or "off" or "Off" or "OFF") return "boolean";
        if (v is ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" or "-.inf" or "-.Inf" or "-.INF" or ".nan" or ".NaN" or ".NAN")
            return "number";
        var plain = v.Replace("_", "");
        if (System.Text.RegularExpressions.Regex.IsMatch(plain, @"^[-+]?(?:0b[01]+|0o?[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$")) return "number";
        if (System.Text.RegularExpressions.Regex.IsMatch(v, @"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")) return "number";
        return null;
    }

    /// <summary>The phrase every refusal carries where Blubber itself would accept the value (docs/blubber.md).</summary>
    public const string StricterThanBlubber = "Slipway is stricter than Blubber here";

    /// <summary>A string that may hold control characters (newlines): for values rendered JSON- or Go-quoted.</summary>
    public string StrAny()
    {
        if (_node is not YamlScalarNode s || IsNull) throw Fail(BlubberErrorKind.Parse, $"{Key}: must be a string");
        RefuseNonString(s);
        var v = s.Value ?? "";
        if (v.Length > _budget.Limits.MaxStringLength)
            throw Fail(BlubberErrorKind.Validation, $"{Key}: longer than {_budget.Limits.MaxStringLength} characters");
        return v;
    }

    /// <summary>A scalar Blubber (go-yaml v2 → JSON) would read as a string: not a mapping or list.</summary>
    public bool IsPlainScalarStyle => _node is YamlScalarNode { Style: ScalarStyle.Plain };

    public string? OptStr() => IsNull ? null : Str();

    /// <summary>A scalar as written, newlines allowed (scripts, key text); other limits still apply.</summary>
    public string RawScalar()
    {
        if (_node is not YamlScalarNode s || IsNull) throw Fail(BlubberErrorKind.Parse, $"{Key}: must be a string");
        var v = s.Value ?? "";
        if (v.Length > 64 * 1024) throw Fail(BlubberErrorKind.Validation, $"{Key}: longer than {64 * 1024} characters");
        return v;
    }

    /// <summary>
    /// Blubber's Flag after its schema's "boolean": go-yaml v2 booleans (true/yes/on/y and false/no/off/n in their
    /// cases). A quoted "true" is a JSON string and 1 a number, which Blubber's schema refuses.
    /// </summary>
    public bool? OptBool()
    {
        if (IsNull) return null;
        if (_node is YamlScalarNode { Style: ScalarStyle.Plain } s)
            switch (s.Value)
            {
                case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y": return true;
                case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "n" or "N": return false;
            }
        throw Fail(BlubberErrorKind.Parse, $"{Key}: must be a boolean (true or false)");
    }

    public uint? OptUInt()
    {
        if (IsNull) return null;
        if (_node is YamlScalarNode { Style: ScalarStyle.Plain } s && uint.TryParse(s.Value, System.Globalization.NumberStyles.None, null, out var n))
            return n;
        throw Fail(BlubberErrorKind.Parse, $"{Key}: must be an unsigned integer");
    }

    /// <summary>Mapping entries, in document order, after applying merge keys.</summary>
    public IReadOnlyList<(string Key, YNode Value)> Map()
    {
        if (_node is not YamlMappingNode m) throw Fail(BlubberErrorKind.Parse, $"{(Path.Length == 0 ? "config" : Key)}: must be a mapping");
        var result = new List<(string, YNode)>();
        var seen = new HashSet<string>();
        var merged = new List<YamlMappingNode>();
        foreach (var (k, v) in m.Children)
        {
            if (k is not YamlScalarNode { Value: { } key }) throw Fail(BlubberErrorKind.Parse, "keys must be strings");
            if (key == "<<" && k is YamlScalarNode { Style: ScalarStyle.Plain })
            {
                if (v is YamlMappingNode one) merged.Add(one);
                else if (v is YamlSequenceNode many && many.Children.All(c => c is YamlMappingNode)) merged.AddRange(many.Children.Cast<YamlMappingNode>());
                else throw Fail(BlubberErrorKind.Parse, "<<: merge key needs a mapping or a list of mappings");
                continue;
            }
            if (key.Length > _budget.Limits.MaxStringLength) throw Fail(BlubberErrorKind.Validation, $"key longer than {_budget.Limits.MaxStringLength} characters");
            seen.Add(key);
            result.Add((key, Child(v, key)));
        }
        foreach (var mm in merged)
            foreach (var (k, v) in mm.Children)
                if (k is YamlScalarNode { Value: { } key } && seen.Add(key))
                    result.Add((key, Child(v, key)));
        if (result.Count > _budget.Limits.MaxListLength)
            throw Fail(BlubberErrorKind.Validation, $"{(Path.Length == 0 ? "config" : Key)}: more than {_budget.Limits.MaxListLength} entries");
        return result;
    }

    /// <summary>Mapping entries, refusing keys outside <paramref name="allowed"/> as Blubber's strict decode does.</summary>
    public IReadOnlyList<(string Key, YNode Value)> Fields(params string[] allowed)
    {
        var entries = Map();
        foreach (var (key, value) in entries)
            if (Array.IndexOf(allowed, key) < 0)
                throw new BlubberException(BlubberErrorKind.Parse, $"json: unknown field \"{key}\"", value.Path, value.KeyLine(_node, key));
        return entries;
    }

    private int KeyLine(YamlNode parent, string key) =>
        parent is YamlMappingNode m && m.Children.Keys.FirstOrDefault(k => k is YamlScalarNode s && s.Value == key) is { } k2
            ? (int)k2.Start.Line : Line;

    public IReadOnlyList<YNode> List()
    {
        if (_node is not YamlSequenceNode s) throw Fail(BlubberErrorKind.Parse, $"{Key}: must be a list");
        if (s.Children.Count > _budget.Limits.MaxListLength)
            throw Fail(BlubberErrorKind.Validation, $"{Key}: more than {_budget.Limits.MaxListLength} entries");
        return s.Children.Select((c, i) => new YNode(c, $"{Path}[{i}]", _budget, _depth + 1)).ToList();
    }

    public IReadOnlyList<string> StrList() => List().Select(n => n.Str()).ToList();

    private YNode Child(YamlNode node, string key) => new(node, Path.Length == 0 ? key : $"{Path}.{key}", _budget, _depth + 1);

    private sealed class Budget(Limits limits)
    {
        public Limits Limits { get; } = limits;
        public int Nodes;
    }
}
