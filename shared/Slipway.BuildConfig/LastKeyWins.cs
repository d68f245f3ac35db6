using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Slipway.BuildConfig;

/// <summary>
/// Duplicate mapping keys read as Blubber and PipelineLib read them: the last one wins. Blubber converts YAML to JSON
/// with ghodss/yaml over go-yaml v2's non-strict Unmarshal, and PipelineLib's Jenkins <c>readYaml</c> uses SnakeYAML
/// (duplicate keys allowed by default); both keep the last value. YamlDotNet refuses duplicates, so the event stream is
/// rewritten first with every earlier duplicate left out (a real Lift Wing Blubber file repeats <c>builders</c>).
/// </summary>
public static class LastKeyWins
{
    /// <summary>Deeper nesting than this is refused here, before anything recurses further.</summary>
    private const int MaxNesting = 1000;

    /// <summary>A parser of <paramref name="yaml"/> whose mappings hold each scalar key once, at its last value.</summary>
    /// <exception cref="YamlException">The YAML is malformed or nested deeper than <see cref="MaxNesting"/>.</exception>
    public static IParser Parser(string yaml)
    {
        var events = new List<ParsingEvent>();
        var parser = new Parser(new StringReader(yaml));
        while (parser.MoveNext()) events.Add(parser.Current!);
        var output = new List<ParsingEvent>(events.Count);
        for (var i = 0; i < events.Count;) i = Copy(events, i, output, 0);
        return new ListParser(output);
    }

    /// <summary>Copies the node starting at <paramref name="i"/>; returns the index after it.</summary>
    private static int Copy(List<ParsingEvent> e, int i, List<ParsingEvent> o, int depth)
    {
        if (depth > MaxNesting) throw new YamlException(e[i].Start, e[i].End, $"nested deeper than {MaxNesting} levels");
        switch (e[i])
        {
            case MappingStart:
            {
                o.Add(e[i++]);
                var pairs = new List<(string? Key, int Start, int End)>();
                while (i < e.Count && e[i] is not MappingEnd)
                {
                    var start = i;
                    var key = e[i] is Scalar s ? s.Value : null; // complex keys are kept as they are
                    i = Skip(e, Skip(e, i));
                    pairs.Add((key, start, i));
                }
                var last = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var k = 0; k < pairs.Count; k++)
                    if (pairs[k].Key is { } key) last[key] = k;
                for (var k = 0; k < pairs.Count; k++)
                {
                    if (pairs[k].Key is { } key && last[key] != k) continue;
                    for (var j = pairs[k].Start; j < pairs[k].End;) j = Copy(e, j, o, depth + 1);
                }
                o.Add(e[i]);
                return i + 1;
            }
            case SequenceStart:
                o.Add(e[i++]);
                while (i < e.Count && e[i] is not SequenceEnd) i = Copy(e, i, o, depth + 1);
                o.Add(e[i]);
                return i + 1;
            default:
                o.Add(e[i]);
                return i + 1;
        }
    }

    /// <summary>The index after the node starting at <paramref name="i"/>.</summary>
    private static int Skip(List<ParsingEvent> e, int i)
    {
        var depth = 0;
        do depth += e[i++].NestingIncrease;
        while (depth > 0 && i < e.Count);
        return i;
    }

    private sealed class ListParser(List<ParsingEvent> events) : IParser
    {
        private int _next;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= events.Count) return false;
            Current = events[_next++];
            return true;
        }
    }
}
