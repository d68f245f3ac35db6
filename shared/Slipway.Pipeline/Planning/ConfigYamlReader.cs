using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// YAML text → <see cref="ConfigValue"/> tree, within <see cref="PipelineConfigLimits"/>. The whole document is
/// counted with every alias expanded before anything is copied, so an alias bomb is refused before it costs memory.
/// Plain scalars are typed as YAML 1.2's core schema does (null, booleans, integers); everything else is a string.
/// </summary>
public static partial class ConfigYamlReader
{
    public static ConfigValue Load(string text, string fileName, PipelineConfigLimits? limits = null)
    {
        limits ??= PipelineConfigLimits.Default;
        if (System.Text.Encoding.UTF8.GetByteCount(text) > limits.MaxFileBytes)
            throw new PipelineConfigException($"{fileName}: file too large: more than {limits.MaxFileBytes} bytes");
        var stream = new YamlStream();
        try
        {
            stream.Load(Slipway.BuildConfig.LastKeyWins.Parser(text));
        }
        catch (YamlException e)
        {
            var detail = string.IsNullOrEmpty(e.InnerException?.Message) ? e.Message : e.InnerException!.Message;
            throw new PipelineConfigException($"{fileName}: line {e.Start.Line}: invalid YAML: {detail}", (int)e.Start.Line);
        }
        catch (ArgumentException e) // YamlDotNet refuses duplicate keys this way
        {
            throw new PipelineConfigException($"{fileName}: invalid YAML: {e.Message}");
        }
        catch (InvalidOperationException) // YamlDotNet's scanner fails this way on some malformed input (e.g. a line break in a flow mapping's quoted key)
        {
            throw new PipelineConfigException($"{fileName}: invalid YAML: the parser could not read it");
        }
        if (stream.Documents.Count != 1)
            throw new PipelineConfigException($"{fileName}: " + (stream.Documents.Count == 0 ? "file is empty" : "must be a single YAML document"));
        var root = stream.Documents[0].RootNode;
        var visited = 0;
        Count(root, 0, ref visited, limits, fileName);
        return Convert(root, limits, fileName);
    }

    private static void Count(YamlNode node, int depth, ref int visited, PipelineConfigLimits limits, string file)
    {
        if (++visited > limits.MaxNodes)
            throw new PipelineConfigException($"{file}: line {node.Start.Line}: too large: more than {limits.MaxNodes} YAML nodes (after alias expansion)", (int)node.Start.Line);
        if (depth > limits.MaxDepth)
            throw new PipelineConfigException($"{file}: line {node.Start.Line}: too deeply nested: more than {limits.MaxDepth} levels", (int)node.Start.Line);
        switch (node)
        {
            case YamlSequenceNode seq:
                if (seq.Children.Count > limits.MaxListLength)
                    throw new PipelineConfigException($"{file}: line {node.Start.Line}: list has more than {limits.MaxListLength} items", (int)node.Start.Line);
                foreach (var c in seq.Children) Count(c, depth + 1, ref visited, limits, file);
                break;
            case YamlMappingNode map:
                if (map.Children.Count > limits.MaxListLength)
                    throw new PipelineConfigException($"{file}: line {node.Start.Line}: mapping has more than {limits.MaxListLength} entries", (int)node.Start.Line);
                foreach (var (k, v) in map.Children)
                {
                    Count(k, depth + 1, ref visited, limits, file);
                    Count(v, depth + 1, ref visited, limits, file);
                }
                break;
        }
    }

    private static ConfigValue Convert(YamlNode node, PipelineConfigLimits limits, string file)
    {
        var line = (int)node.Start.Line;
        switch (node)
        {
            case YamlScalarNode s:
                var value = s.Value ?? "";
                if (value.Length > limits.MaxStringLength)
                    throw new PipelineConfigException($"{file}: line {line}: value longer than {limits.MaxStringLength} characters", line);
                return new ConfigScalar(s.Style == ScalarStyle.Plain ? TypePlain(value) : value, line);
            case YamlSequenceNode seq:
                return new ConfigList(seq.Children.Select(c => Convert(c, limits, file)).ToList(), line);
            case YamlMappingNode map:
                var entries = new List<ConfigEntry>();
                var merged = new List<YamlMappingNode>();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode { Value: { } key } ks)
                        throw new PipelineConfigException($"{file}: line {k.Start.Line}: mapping keys must be strings", (int)k.Start.Line);
                    if (key == "<<" && ks.Style == ScalarStyle.Plain) // YAML 1.1 merge key, as SnakeYAML applies it
                    {
                        if (v is YamlMappingNode one) merged.Add(one);
                        else if (v is YamlSequenceNode many && many.Children.All(c => c is YamlMappingNode)) merged.AddRange(many.Children.Cast<YamlMappingNode>());
                        else throw new PipelineConfigException($"{file}: line {k.Start.Line}: <<: merge key needs a mapping or a list of mappings", (int)k.Start.Line);
                        continue;
                    }
                    entries.Add(new ConfigEntry(key, (int)k.Start.Line, Convert(v, limits, file)));
                }
                foreach (var mm in merged)
                    foreach (var (k, v) in mm.Children)
                        if (k is YamlScalarNode { Value: { } key } && entries.All(e => e.Key != key))
                            entries.Add(new ConfigEntry(key, (int)k.Start.Line, Convert(v, limits, file)));
                if (entries.Count > limits.MaxListLength)
                    throw new PipelineConfigException($"{file}: line {line}: mapping has more than {limits.MaxListLength} entries", line);
                return new ConfigMap(entries, line);
            default:
                throw new PipelineConfigException($"{file}: line {line}: unsupported YAML node", line);
        }
    }

    private static object? TypePlain(string v)
    {
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return true;
            case "false" or "False" or "FALSE": return false;
        }
        if (IntPattern().IsMatch(v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
        return v;
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();
}
