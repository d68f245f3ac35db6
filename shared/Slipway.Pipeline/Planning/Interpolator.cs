using System.Text;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's variable expressions (pipeline-config §4) evaluated for one stage: <c>${ns.key}</c>,
/// <c>${.key}</c>, <c>${name|default}</c>, dot-less names left as written, list comprehensions and
/// <c>$merge</c>, recursing through lists and maps including map keys. A whole-string reference yields the
/// bound value itself (a list stays a list); a runtime value inside a longer string cannot be planned and
/// throws <see cref="RuntimeReferenceException"/>.
/// </summary>
public sealed class Interpolator
{
    private readonly BindingStore _store;
    private readonly ExecutionGraph _graph;
    private readonly string _stage;
    private readonly PipelineConfigLimits _limits;
    private readonly IReadOnlyDictionary<string, string> _locals;
    private readonly Budget _budget;

    public Interpolator(BindingStore store, ExecutionGraph graph, string stage, PipelineConfigLimits? limits = null)
        : this(store, graph, stage, limits ?? PipelineConfigLimits.Default, new Dictionary<string, string>(), new Budget()) { }

    private Interpolator(BindingStore store, ExecutionGraph graph, string stage, PipelineConfigLimits limits,
        IReadOnlyDictionary<string, string> locals, Budget budget)
    {
        _store = store;
        _graph = graph;
        _stage = stage;
        _limits = limits;
        _locals = locals;
        _budget = budget;
    }

    public ConfigValue Interpolate(ConfigValue value)
    {
        // Counts every value produced, so nested comprehensions cannot multiply without bound.
        if (++_budget.Produced > _limits.MaxNodes)
            throw new PipelineConfigException($"interpolation produces more than {_limits.MaxNodes} values");
        switch (value)
        {
            case ConfigScalar { Value: string s }:
                return InterpolateString(s, value.Line);
            case ConfigList l:
                return new ConfigList(l.Items.Select(Interpolate).ToList(), l.Line);
            case ConfigMap m when m.Has("$merge"):
                return Merge(Interpolate(m.Get("$merge")!), Interpolate(m.Get("$with") ?? new ConfigScalar(null, m.Line)), m.Line);
            case ConfigMap m when m.Has("$each"):
                return Comprehension(m);
            case ConfigMap m:
                var entries = new List<ConfigEntry>();
                foreach (var e in m.Entries)
                {
                    var key = InterpolateString(e.Key, e.KeyLine);
                    if (RuntimeIn(key) is { } r) throw new RuntimeReferenceException(r.Reference);
                    entries.Add(new ConfigEntry(key.Render(), e.KeyLine, Interpolate(e.Value)));
                }
                return new ConfigMap(entries, m.Line);
            default:
                return value; // booleans, numbers, null and runtime placeholders pass through
        }
    }

    /// <summary>
    /// Interpolates a string; a string that is exactly one reference yields the bound value unchanged, and a string
    /// holding runtime values among text yields a <see cref="ConfigTemplate"/>.
    /// </summary>
    public ConfigValue InterpolateString(string text, int line = 0)
    {
        var parts = Lex(text);
        if (parts.Count == 1 && parts[0] is Reference only)
        {
            var v = Resolve(only);
            return v is ConfigScalar or ConfigRuntime or ConfigTemplate ? v with { Line = line } : v;
        }
        var sb = new StringBuilder();
        var template = new List<ConfigValue>();
        var length = 0;
        void Flush()
        {
            if (sb.Length > 0) template.Add(new ConfigScalar(sb.ToString(), line));
            sb.Clear();
        }
        foreach (var part in parts)
        {
            if (part is Literal lit) { sb.Append(lit.Text); length += lit.Text.Length; }
            else
            {
                switch (Resolve((Reference)part))
                {
                    case ConfigRuntime r:
                        Flush();
                        template.Add(r);
                        break;
                    case ConfigTemplate t: // e.g. an export that holds runtime values
                        Flush();
                        foreach (var p in t.Parts)
                            if (p is ConfigScalar { Value: string s }) { sb.Append(s); length += s.Length; Flush(); }
                            else template.Add(p);
                        break;
                    case var v:
                        var rendered = v.Render();
                        sb.Append(rendered);
                        length += rendered.Length;
                        break;
                }
            }
            if (length > _limits.MaxInterpolatedLength)
                throw new PipelineConfigException($"interpolated value longer than {_limits.MaxInterpolatedLength} characters");
        }
        if (template.Count == 0) return new ConfigScalar(sb.ToString(), line);
        Flush();
        return new ConfigTemplate(template, line);
    }

    private ConfigValue Resolve(Reference r)
    {
        if (!r.Name.Contains('.')) return new ConfigScalar(r.Source, 0); // shell-style ${FOO}: not a pipeline variable (T291554)
        var dot = r.Name.IndexOf('.');
        var ns = dot == 0 ? _stage : r.Name[..dot];
        var key = r.Name[(dot + 1)..];
        if (dot == 0 && _locals.TryGetValue(key, out var local)) return Defaulted(new ConfigScalar(local, 0), r);
        if (ns != "setup" && ns != _stage && !_graph.Ancestors(_stage).Contains(ns))
            throw new PipelineConfigException($"cannot access '{ns}.*' values since '{_stage}' does not follow it in the graph '{_graph}'");
        if (_store.TryGet(ns, key, out var value)) return Defaulted(value, r);
        if (r.Default is not null) return new ConfigScalar(r.Default, 0);
        var available = _store.Names(new[] { "setup" }.Concat(_graph.Nodes.Where(n => n == _stage || _graph.Ancestors(_stage).Contains(n))))
            .Concat(_locals.Keys.Select(k => $"{_stage}.{k}"));
        throw new PipelineConfigException($"no value bound for '{ns}.{key}'; all available variables are: [{string.Join(", ", available)}]");
    }

    // The default replaces an unbound or falsy value; a runtime value keeps it, applied when the value is resolved.
    private static ConfigValue Defaulted(ConfigValue value, Reference r)
    {
        if (r.Default is null) return value;
        if (value is ConfigRuntime rt) return rt with { Default = r.Default };
        if (value is ConfigTemplate t) throw new RuntimeReferenceException(t.FirstRuntime.Reference);
        return value.IsTruthy ? value : new ConfigScalar(r.Default, 0);
    }

    /// <summary>The first runtime value a string-like value holds (a runtime value itself, or a template's).</summary>
    private static ConfigRuntime? RuntimeIn(ConfigValue v) => v switch
    {
        ConfigRuntime r => r,
        ConfigTemplate t => t.FirstRuntime,
        _ => null,
    };

    private ConfigValue Merge(ConfigValue a, ConfigValue b, int line)
    {
        if (RuntimeIn(a) is { } ra) throw new RuntimeReferenceException(ra.Reference);
        if (RuntimeIn(b) is { } rb) throw new RuntimeReferenceException(rb.Reference);
        switch (a)
        {
            case ConfigList la: // Groovy List + List concatenates (duplicates kept), List + x appends
                return new ConfigList(b is ConfigList lb ? [.. la.Items, .. lb.Items] : [.. la.Items, b], line);
            case ConfigMap ma when b is ConfigMap mb:
                var merged = ma.Entries.Where(e => !mb.Has(e.Key)).Concat(mb.Entries).ToList();
                return new ConfigMap(merged, line);
            case ConfigScalar { Value: string sa }:
                return new ConfigScalar(sa + b.Render(), line);
            default:
                throw new PipelineConfigException($"cannot merge a {a.TypeName} with a {b.TypeName}", line);
        }
    }

    /// <summary>Marks a comprehension variable inside a deferred <c>$yield</c>; never part of a name or of planned text.</summary>
    public const char LocalMark = '\u0001';

    /// <summary>
    /// A comprehension whose <c>$in</c> is a runtime output (PipelineLib expands it when the stage runs): its names,
    /// delimiter, interpolated input and its <c>$yield</c> interpolated with each variable left as
    /// <see cref="LocalMark"/>name<see cref="LocalMark"/>. Null when <c>$in</c> is known at planning.
    /// </summary>
    public (IReadOnlyList<string> Each, string Delimiter, ConfigValue In, ConfigValue Yield)? DeferredComprehension(ConfigMap m)
    {
        var input = Interpolate(m.Get("$in")!);
        if (input is not (ConfigRuntime or ConfigTemplate)) return null;
        var names = m.Get("$each") is ConfigList l ? l.Items.Select(i => i.Render()).ToList() : [m.Get("$each")!.Render()];
        var delimiter = m.Get("$delimiter")?.Render() ?? "\n";
        if (delimiter.Length == 0) throw new PipelineConfigException("`$delimiter` must not be empty", m.Line);
        var locals = new Dictionary<string, string>(_locals);
        foreach (var name in names) locals[name] = $"{LocalMark}{name}{LocalMark}";
        var yield = m.Get("$yield") ?? new ConfigScalar("${." + names[0] + "}", m.Line);
        return (names, delimiter, input, new Interpolator(_store, _graph, _stage, _limits, locals, _budget).Interpolate(yield));
    }

    private ConfigValue Comprehension(ConfigMap m)
    {
        var names = m.Get("$each") is ConfigList l ? l.Items.Select(i => i.Render()).ToList() : [m.Get("$each")!.Render()];
        var delimiter = m.Get("$delimiter")?.Render() ?? "\n";
        var input = Interpolate(m.Get("$in")!);
        var tokens = input switch
        {
            // Slipway expands comprehensions when it plans the run: over a value known only later, it cannot.
            ConfigRuntime or ConfigTemplate => throw new RuntimeReferenceException(RuntimeIn(input)!.Reference, "`$each`/`$in` over it is expanded when the run is planned"),
            ConfigList list => list.Items.Select(i => i.Render()).Where(t => t.Length > 0).ToList(),
            _ => input.Render().Split(delimiter.ToCharArray(), StringSplitOptions.RemoveEmptyEntries).ToList(), // Groovy tokenize
        };
        if (tokens.Count > _limits.MaxComprehensionItems)
            throw new PipelineConfigException($"list comprehension yields more than {_limits.MaxComprehensionItems} items", m.Line);
        var yield = m.Get("$yield") ?? new ConfigScalar("${." + names[0] + "}", m.Line);
        var items = new List<ConfigValue>();
        foreach (var token in tokens)
        {
            var locals = new Dictionary<string, string>(_locals);
            if (names.Count == 1) locals[names[0]] = token;
            else
            {
                var values = token.Split(' ');
                if (values.Length < names.Count)
                    throw new PipelineConfigException(
                        $"insufficient number of values given ([{string.Join(", ", values)}]) to bind to variables ([{string.Join(", ", names)}])", m.Line);
                for (var i = 0; i < names.Count; i++) locals[names[i]] = values[i];
            }
            items.Add(new Interpolator(_store, _graph, _stage, _limits, locals, _budget).Interpolate(yield));
        }
        return new ConfigList(items, m.Line);
    }

    private abstract record Part;
    private sealed record Literal(string Text) : Part;
    private sealed record Reference(string Name, string? Default, string Source) : Part;

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    private static List<Part> Lex(string text)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] != '$' || i + 1 >= text.Length || text[i + 1] != '{')
            {
                literal.Append(text[i++]);
                continue;
            }
            var start = i;
            i += 2;
            var nameStart = i;
            while (i < text.Length && IsNameChar(text[i])) i++;
            var name = text[nameStart..i];
            if (i >= text.Length) throw Invalid("missing end delimiter `}`", text);
            if (name.Length == 0) throw Invalid("name is missing", text);
            string? dflt = null;
            if (text[i] == '|')
            {
                var end = text.IndexOf('}', i);
                if (end < 0) throw Invalid("missing end delimiter `}`", text);
                dflt = text[(i + 1)..end];
                i = end;
            }
            else if (text[i] != '}') throw Invalid("invalid character following name", text);
            i++; // past '}'
            if (literal.Length > 0) { parts.Add(new Literal(literal.ToString())); literal.Clear(); }
            parts.Add(new Reference(name, dflt, text[start..i]));
        }
        if (literal.Length > 0 || parts.Count == 0) parts.Add(new Literal(literal.ToString()));
        return parts;
    }

    private static PipelineConfigException Invalid(string reason, string text) => new($"invalid variable expression ({reason}): {text}");

    private sealed class Budget
    {
        public int Produced;
    }
}
