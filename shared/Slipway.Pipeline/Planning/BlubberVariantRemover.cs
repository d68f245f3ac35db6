using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// A Blubber file's text without one variant: its key and value are blanked (newlines kept), so every other line
/// keeps its number and later errors still point at the right line. A variant that includes the removed one then
/// fails as Blubber would ("not defined"), which is right: it is built on a refused variant.
/// </summary>
internal static class BlubberVariantRemover
{
    /// <summary>The text without <paramref name="variant"/>, or null when it cannot be removed cleanly (e.g. flow style).</summary>
    public static string? Without(string text, string variant)
    {
        YamlStream stream = new();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is YamlException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root) return null;
        // Found by value: a quoted key ("variants") is the same key to Blubber but not an equal node to YamlDotNet.
        if (root.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: "variants" }).Value is not YamlMappingNode variants) return null;
        if (variants.Style == YamlDotNet.Core.Events.MappingStyle.Flow) return null;
        if (variants.Children.Count < 2) return null; // nothing else would be left to build
        // A node's End mark is not where its block ends: the variant runs up to the next key (of variants, or after it
        // at the top level), or to the end of the file.
        var keys = variants.Children.Keys.ToList();
        var i = keys.FindIndex(k => k is YamlScalarNode { Value: { } name } && name == variant);
        if (i < 0) return null;
        var start = (int)keys[i].Start.Index;
        var end = i + 1 < keys.Count ? (int)keys[i + 1].Start.Index
            : root.Children.Keys.Select(k => (int)k.Start.Index).Where(x => x > start).DefaultIfEmpty(text.Length).Min();
        if (start < 0 || end > text.Length || end <= start) return null;
        // The next key's indentation stays.
        while (end > start && text[end - 1] is ' ' or '\t') end--;
        var blank = new string(text[start..end].Where(c => c == '\n').ToArray());
        return text[..start] + blank + text[end..];
    }
}
