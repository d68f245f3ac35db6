namespace Slipway.Pipeline.Planning;

/// <summary>
/// The values stages bind, by namespace (stage name, or <c>setup</c>), like PipelineLib's <c>ExecutionContext</c>.
/// At plan time a value a step produces while running is bound as a <see cref="ConfigRuntime"/> placeholder.
/// </summary>
public sealed class BindingStore
{
    private readonly Dictionary<string, List<KeyValuePair<string, ConfigValue>>> _byNamespace = new(StringComparer.Ordinal);

    /// <summary>Binds <paramref name="ns"/>.<paramref name="key"/>; names cannot be rebound, as in PipelineLib.</summary>
    public void Bind(string ns, string key, ConfigValue value)
    {
        if (!_byNamespace.TryGetValue(ns, out var values)) _byNamespace[ns] = values = [];
        if (values.Any(v => v.Key == key)) throw new PipelineConfigException($"'{ns}' already has a value assigned to '{key}'");
        values.Add(new(key, value));
    }

    /// <summary>Binds a value the step produces while the run executes.</summary>
    public void BindRuntime(string ns, string key) => Bind(ns, key, new ConfigRuntime(ns, key, 0));

    public bool TryGet(string ns, string key, out ConfigValue value)
    {
        value = null!;
        if (!_byNamespace.TryGetValue(ns, out var values)) return false;
        foreach (var (k, v) in values)
            if (k == key) { value = v; return true; }
        return false;
    }

    /// <summary>Every <c>ns.key</c> bound in the given namespaces, for the "all available variables" message.</summary>
    public IEnumerable<string> Names(IEnumerable<string> namespaces) =>
        namespaces.Where(_byNamespace.ContainsKey).SelectMany(ns => _byNamespace[ns].Select(v => $"{ns}.{v.Key}"));
}

/// <summary>A reference to a value known only while the run executes, used where the plan needs it now.</summary>
public sealed class RuntimeReferenceException(string reference, string? why = null)
    : Exception($"`${{{reference}}}` is known only while the run executes" + (why is null ? "" : $" ({why})"))
{
    public string Reference { get; } = reference;

    /// <summary>Why the value is needed at planning, when it is not the field itself (e.g. a list comprehension).</summary>
    public string? Why { get; } = why;
}
