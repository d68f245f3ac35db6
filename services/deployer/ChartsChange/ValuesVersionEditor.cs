using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Slipway.Deployer.ChartsChange;

/// <summary>
/// Sets or removes <c>main_app.version</c> in a helmfile values file, as deployment-charts' update_version.py does, by
/// editing only that line so the file's comments, order and style stay for reviewers. The result is parsed again and must
/// say exactly what was meant; a file it cannot edit that way (not a block mapping, a flow-style <c>main_app</c>) is refused.
/// </summary>
public static partial class ValuesVersionEditor
{
    /// <summary>The file's text with <c>main_app.version</c> set to <paramref name="version"/>; <paramref name="text"/> null: a new file.</summary>
    public static string SetVersion(string? text, string version)
    {
        var lines = Lines(text);
        var scalar = Scalar(version);
        var block = FindMainApp(lines);
        if (block is null)
        {
            while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
            lines.Add("main_app:");
            lines.Add($"  version: {scalar}");
        }
        else
        {
            var (start, end, indent) = block.Value;
            var existing = FindVersion(lines, start, end, indent);
            if (existing is { } at) lines[at] = $"{indent}version: {scalar}";
            else lines.Insert(start + 1, $"{indent}version: {scalar}");
        }
        var result = string.Join('\n', lines) + "\n";
        if (VersionOf(result) != version) throw new ChartsChangeException("the values file's main_app.version could not be set by a one-line edit; refused", permanent: true);
        return result;
    }

    /// <summary>The file's text without <c>main_app.version</c> (and without an emptied <c>main_app</c>); null when nothing else is left.</summary>
    public static string? RemoveVersion(string text)
    {
        var lines = Lines(text);
        if (FindMainApp(lines) is not { } block) return text;
        var (start, end, indent) = block;
        if (FindVersion(lines, start, end, indent) is not { } at) return text;
        lines.RemoveAt(at);
        end--;
        if (!lines.Skip(start + 1).Take(end - start - 1).Any(l => IsContent(l))) lines.RemoveRange(start, end - start);
        if (!lines.Any(IsContent)) return null;
        var result = string.Join('\n', lines).TrimEnd('\n') + "\n";
        if (VersionOf(result) is not null) throw new ChartsChangeException("the values file's main_app.version could not be removed by a one-line edit; refused", permanent: true);
        return result;
    }

    /// <summary>The <c>main_app.version</c> a values file sets, or null; throws when the file is not YAML or not a mapping.</summary>
    public static string? VersionOf(string text)
    {
        var yaml = new YamlStream();
        try { yaml.Load(new StringReader(text)); }
        catch (YamlDotNet.Core.YamlException e) { throw new ChartsChangeException($"the values file is not valid YAML: {e.Message}", permanent: true); }
        if (yaml.Documents.Count == 0) return null;
        if (yaml.Documents.Count > 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new ChartsChangeException("the values file is not one YAML mapping", permanent: true);
        if (!root.Children.TryGetValue(new YamlScalarNode("main_app"), out var app)) return null;
        if (app is not YamlMappingNode mainApp) throw new ChartsChangeException("the values file's main_app is not a mapping", permanent: true);
        return mainApp.Children.TryGetValue(new YamlScalarNode("version"), out var v) && v is YamlScalarNode s ? s.Value : null;
    }

    private static List<string> Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : [.. text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n')];

    private static bool IsContent(string line) => line.Trim().Length > 0 && !line.TrimStart().StartsWith('#');

    /// <summary>The top-level <c>main_app:</c> line, the end of its block (exclusive) and its children's indent.</summary>
    private static (int Start, int End, string Indent)? FindMainApp(List<string> lines)
    {
        var start = lines.FindIndex(l => MainAppLine().IsMatch(l));
        if (start < 0)
        {
            if (lines.Any(l => l.StartsWith("main_app", StringComparison.Ordinal)))
                throw new ChartsChangeException("the values file's main_app is not a block mapping; refused (set main_app.version by hand once)", permanent: true);
            return null;
        }
        var end = start + 1;
        while (end < lines.Count && (!IsContent(lines[end]) || lines[end].StartsWith(' '))) end++;
        // Trailing blank lines and comments belong to what follows.
        while (end > start + 1 && !IsContent(lines[end - 1])) end--;
        var firstChild = lines.Skip(start + 1).Take(end - start - 1).FirstOrDefault(IsContent);
        var indent = firstChild is null ? "  " : firstChild[..(firstChild.Length - firstChild.TrimStart(' ').Length)];
        return (start, end, indent);
    }

    private static int? FindVersion(List<string> lines, int start, int end, string indent)
    {
        for (var i = start + 1; i < end; i++)
            if (lines[i].StartsWith(indent + "version:", StringComparison.Ordinal)) return i;
        return null;
    }

    /// <summary>A tag as a YAML string scalar: plain when YAML reads it as that string, else single-quoted.</summary>
    private static string Scalar(string version) =>
        PlainSafe().IsMatch(version) && !LooksTyped().IsMatch(version) ? version : "'" + version.Replace("'", "''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^main_app:[ \t]*(#.*)?$")]
    private static partial Regex MainAppLine();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*\z")]
    private static partial Regex PlainSafe();

    // Numbers, dates, booleans and nulls (YAML 1.1 and 1.2) would not read back as strings.
    [GeneratedRegex(@"^(?:[-+]?[0-9_.]+(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|(?i:y|n|yes|no|on|off|true|false|null|~|\.inf|\.nan))\z")]
    private static partial Regex LooksTyped();
}
