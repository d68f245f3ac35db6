using System.Globalization;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// A YAML value from <c>.pipeline/config.yaml</c>, kept as a tree (not typed records) because PipelineLib
/// interpolates nearly every field, including map keys, before it means anything. Lines are 1-based.
/// </summary>
public abstract record ConfigValue(int Line)
{
    /// <summary>Groovy truth, which PipelineLib uses to decide whether a step runs: null, false, "", 0, [] and {} are false.</summary>
    public bool IsTruthy => this switch
    {
        ConfigScalar { Value: null } => false,
        ConfigScalar { Value: bool b } => b,
        ConfigScalar { Value: string s } => s.Length > 0,
        ConfigScalar { Value: long n } => n != 0,
        ConfigList l => l.Items.Count > 0,
        ConfigMap m => m.Entries.Count > 0,
        _ => true,
    };

    /// <summary>The value as PipelineLib would print it into a string (Groovy's toString for lists and maps).</summary>
    public abstract string Render();

    /// <summary>A short name of the value's type for error messages.</summary>
    public abstract string TypeName { get; }
}

/// <summary>A scalar: <see cref="string"/>, <see cref="bool"/>, <see cref="long"/> or null.</summary>
public sealed record ConfigScalar(object? Value, int Line) : ConfigValue(Line)
{
    public override string Render() => Value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        _ => (string)Value,
    };

    public override string TypeName => Value switch { null => "null", bool => "boolean", long => "integer", _ => "string" };
    public string? AsString => Value as string;
}

/// <summary>A YAML sequence.</summary>
public sealed record ConfigList(IReadOnlyList<ConfigValue> Items, int Line) : ConfigValue(Line)
{
    public override string Render() => "[" + string.Join(", ", Items.Select(i => i.Render())) + "]";
    public override string TypeName => "list";
}

/// <summary>One mapping entry, with the line of its key (where an unknown key is reported).</summary>
public sealed record ConfigEntry(string Key, int KeyLine, ConfigValue Value);

/// <summary>A YAML mapping, entries in document order.</summary>
public sealed record ConfigMap(IReadOnlyList<ConfigEntry> Entries, int Line) : ConfigValue(Line)
{
    public ConfigValue? Get(string key) => Entries.FirstOrDefault(e => e.Key == key)?.Value;
    public bool Has(string key) => Entries.Any(e => e.Key == key);
    public override string Render() => Entries.Count == 0 ? "[:]" : "[" + string.Join(", ", Entries.Select(e => $"{e.Key}:{e.Value.Render()}")) + "]";
    public override string TypeName => "map";
}

/// <summary>
/// A value a step produces while the run executes (<c>imageID</c>, <c>output</c>, publish outputs, ...), so
/// unknown when the run is planned. Interpolation yields it for a whole-string reference such as
/// <c>${build.imageID}</c>; the planner maps the ones it understands (an image to run or publish, a field resolved at run
/// time) and refuses the rest. <see cref="Default"/> is PipelineLib's <c>${x|default}</c>.
/// </summary>
public sealed record ConfigRuntime(string Stage, string Key, int Line, string? Default = null) : ConfigValue(Line)
{
    public string Reference => $"{Stage}.{Key}";
    public override string Render() => "${" + Reference + (Default is null ? "" : "|" + Default) + "}";
    public override string TypeName => "runtime value";
}

/// <summary>
/// A string that holds runtime values among literal text (<c>'lint said: ${lint.output}'</c>): its parts in order, each a
/// string <see cref="ConfigScalar"/> or a <see cref="ConfigRuntime"/>. Only fields resolved at run time accept it.
/// </summary>
public sealed record ConfigTemplate(IReadOnlyList<ConfigValue> Parts, int Line) : ConfigValue(Line)
{
    public ConfigRuntime FirstRuntime => Parts.OfType<ConfigRuntime>().First();
    public override string Render() => string.Concat(Parts.Select(p => p.Render()));
    public override string TypeName => "runtime value";
}
