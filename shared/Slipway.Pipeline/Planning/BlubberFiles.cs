using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Reads the Blubber files a plan builds from, each once, and checks at plan time what the build would find out
/// minutes later: that the file exists, is valid Blubber v4 and defines the variant. A variant Blubber refuses is
/// refused alone: the file is read again without it, so the steps that build other variants still run.
/// </summary>
internal sealed class BlubberFiles(Func<string, string?> readFile, Limits limits)
{
    private readonly Dictionary<string, BlubberConfig> _parsed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, PipelineConfigException>> _refusedVariants = new(StringComparer.Ordinal);

    private readonly Dictionary<string, string> _inline = new(StringComparer.Ordinal);

    /// <summary>Registers an inline config (PipelineLib's <c>blubberfile</c> object) under the name the plan gives it.</summary>
    public void AddInline(string name, string text) => _inline[name] = text;

    public bool Exists(string path) => _parsed.ContainsKey(path) || readFile(path) is not null;

    public BlubberConfig Get(string path)
    {
        if (_parsed.TryGetValue(path, out var done)) return done;
        var text = (_inline.TryGetValue(path, out var inline) ? inline : readFile(path)) ?? throw new PipelineConfigException($"failed to build image: no Blubber config found at {path}", 0, path);
        try
        {
            var result = TolerantBlubber.Parse(text, limits);
            _refusedVariants[path] = result.Refused.ToDictionary(r => r.Key, r => new PipelineConfigException($"{path}: {r.Value.Message}", r.Value.Line, path));
            return _parsed[path] = result.Config;
        }
        catch (BlubberException e)
        {
            throw new PipelineConfigException($"{path}: {e.Message}", e.Line, path);
        }
    }

    /// <summary>The warnings of every file read so far (keys accepted with a caveat), each prefixed with its path.</summary>
    public IReadOnlyList<string> Warnings => [.. _parsed.SelectMany(kv => kv.Value.Warnings.Select(w => $"{kv.Key}: {w}"))];

    /// <summary>The variants of <paramref name="path"/> Blubber refused, with why (after <see cref="Get"/>).</summary>
    public IReadOnlyDictionary<string, PipelineConfigException> RefusedVariants(string path) =>
        _refusedVariants.TryGetValue(path, out var r) ? r : new Dictionary<string, PipelineConfigException>();

    /// <summary>
    /// A refused variant that <paramref name="variant"/> includes or copies from, directly or through others: the file
    /// parsed without it, so the name would otherwise be read as an image (Blubber refuses the whole file instead).
    /// </summary>
    private static KeyValuePair<string, PipelineConfigException>? RefusedDependency(BlubberConfig config, string variant,
        IReadOnlyDictionary<string, PipelineConfigException> refused)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { variant };
        var queue = new Queue<string>([variant]);
        while (queue.TryDequeue(out var name))
        {
            if (config.Variant(name) is not { } v) continue;
            foreach (var reference in Expander.References(v, config.Common))
            {
                if (refused.TryGetValue(reference, out var why)) return new(reference, why);
                if (seen.Add(reference)) queue.Enqueue(reference);
            }
        }
        return null;
    }

    private static string Unprefixed(string message, string path) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;

    /// <summary>The variant with includes and top-level keys merged in; refused as Blubber refuses it.</summary>
    public ExpandedVariant Variant(string path, string variant)
    {
        var config = Get(path);
        var refused = RefusedVariants(path);
        if (refused.TryGetValue(variant, out var refusal)) throw refusal;
        if (refused.Count > 0 && RefusedDependency(config, variant, refused) is { } dependency)
            throw new PipelineConfigException($"{path}: variant \"{variant}\" needs variant \"{dependency.Key}\" (includes or copies from it), " +
                $"which Blubber refuses: {Unprefixed(dependency.Value.Message, path)}", dependency.Value.Line, path);
        if (config.Variant(variant) is null)
            throw new PipelineConfigException($"{path}: variant \"{variant}\" is not defined (defined: {string.Join(", ", config.Variants.Select(v => v.Name))})", 0, path);
        try
        {
            return Expander.Expand(config, variant).Target;
        }
        catch (BlubberException e)
        {
            throw new PipelineConfigException($"{path}: {e.Message}", e.Line, path);
        }
    }
}
