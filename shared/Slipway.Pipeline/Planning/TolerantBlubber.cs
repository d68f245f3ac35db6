using Slipway.BuildConfig;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// A Blubber file read so that a variant Blubber refuses is refused alone: the file is parsed again without it
/// (<see cref="BlubberVariantRemover"/>) until it parses. The planner uses it to refuse only the builds of that variant,
/// the builder to build the other variants from the same text (one rule for both).
/// </summary>
public static class TolerantBlubber
{
    /// <param name="Text">The text that parsed: the file without its refused variants (lines kept).</param>
    /// <param name="Refused">Each refused variant with Blubber's refusal.</param>
    public sealed record Result(BlubberConfig Config, string Text, IReadOnlyDictionary<string, BlubberException> Refused);

    /// <summary>Throws <see cref="BlubberException"/> when the error is outside the variants (or cannot be isolated).</summary>
    public static Result Parse(string text, Limits limits)
    {
        var refused = new Dictionary<string, BlubberException>(StringComparer.Ordinal);
        while (true)
        {
            try
            {
                return new Result(ConfigParser.Parse(text, limits), text, refused);
            }
            catch (InvalidOperationException) // YamlDotNet's scanner fails this way on some malformed input
            {
                throw new BlubberException(BlubberErrorKind.Parse, "invalid YAML: the parser could not read it");
            }
            catch (BlubberException e)
            {
                // An error inside one variant refuses that variant only; anything else refuses the file.
                if (VariantOf(e.KeyPath) is not { } variant || refused.ContainsKey(variant)
                    || BlubberVariantRemover.Without(text, variant) is not { } rest)
                    throw;
                refused[variant] = e;
                text = rest;
            }
        }
    }

    private static string? VariantOf(string? keyPath)
    {
        if (keyPath is null || !keyPath.StartsWith("variants.", StringComparison.Ordinal)) return null;
        var name = keyPath["variants.".Length..].Split('.', '[')[0];
        return name.Length > 0 ? name : null;
    }
}
