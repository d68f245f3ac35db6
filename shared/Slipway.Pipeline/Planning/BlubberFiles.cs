using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Reads the Blubber files a plan builds from, each once, and checks at plan time what the build would find out
/// minutes later: that the file exists, is valid Blubber v4 and defines the variant.
/// </summary>
internal sealed class BlubberFiles(Func<string, string?> readFile, Limits limits)
{
    private readonly Dictionary<string, BlubberConfig> _parsed = new(StringComparer.Ordinal);

    public bool Exists(string path) => _parsed.ContainsKey(path) || readFile(path) is not null;

    public BlubberConfig Get(string path)
    {
        if (_parsed.TryGetValue(path, out var done)) return done;
        var text = readFile(path) ?? throw new PipelineConfigException($"failed to build image: no Blubber config found at {path}");
        try
        {
            return _parsed[path] = ConfigParser.Parse(text, limits);
        }
        catch (BlubberException e)
        {
            throw new PipelineConfigException($"{path}: {e.Message}", e.Line);
        }
    }

    /// <summary>The variant with includes and top-level keys merged in; refused as Blubber refuses it.</summary>
    public ExpandedVariant Variant(string path, string variant)
    {
        var config = Get(path);
        if (config.Variant(variant) is null)
            throw new PipelineConfigException($"{path}: variant \"{variant}\" is not defined (defined: {string.Join(", ", config.Variants.Select(v => v.Name))})");
        try
        {
            return Expander.Expand(config, variant).Target;
        }
        catch (BlubberException e)
        {
            throw new PipelineConfigException($"{path}: {e.Message}", e.Line);
        }
    }
}
