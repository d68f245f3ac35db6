namespace Slipway.Contracts;

/// <summary>
/// The bound on command output carried in events (<c>outputTail</c>): the last lines of the output,
/// at most <see cref="TailMaxChars"/> characters. Full logs stay with the service that ran the step.
/// </summary>
public static class Output
{
    /// <summary>Most characters an <c>outputTail</c> may hold.</summary>
    public const int TailMaxChars = 8192;

    /// <summary>Default number of lines kept.</summary>
    public const int DefaultTailLines = 50;

    /// <summary>Schema description of every <c>outputTail</c> property.</summary>
    public const string TailDescription = "The last lines of the output, at most 8192 characters, lines separated by \\n.";

    /// <summary>
    /// The last <paramref name="lines"/> lines of <paramref name="output"/>, fewer if needed to fit
    /// <see cref="TailMaxChars"/> (or, when the last line alone is longer, its last <see cref="TailMaxChars"/>
    /// characters). Line endings become <c>\n</c>; trailing empty lines are dropped. Null or empty output gives null.
    /// </summary>
    public static string? Tail(string? output, int lines = DefaultTailLines)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lines);
        if (string.IsNullOrEmpty(output)) return null;
        var text = output.ReplaceLineEndings("\n").TrimEnd('\n');
        if (text.Length == 0) return null;

        var start = text.Length; // the kept suffix is text[start..]
        var kept = 0;
        while (kept < lines && start > 0)
        {
            // Skip the '\n' that ends the previous line, then find the one before it.
            var searchFrom = start == text.Length ? start - 1 : start - 2;
            var lineStart = searchFrom < 0 ? 0 : text.LastIndexOf('\n', searchFrom) + 1;
            if (text.Length - lineStart > TailMaxChars) break;
            start = lineStart;
            kept++;
        }
        if (kept == 0) start = text.Length - TailMaxChars;
        if (char.IsLowSurrogate(text[start])) start++; // never split a surrogate pair
        return text[start..];
    }
}
