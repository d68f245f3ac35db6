using System.Buffers;
using System.Globalization;
using System.Text;

namespace Slipway.Contracts;

/// <summary>
/// Characters that make a name chosen by a run's content (an archived file's path) show as something else wherever it
/// is written: control characters (CR, LF, ESC, NEL), line and paragraph separators (U+2028, U+2029), format characters
/// (the bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069 that make <c>report‮exe.txt</c> read as
/// <c>reporttxt.exe</c>, direction marks, zero-width and other invisible characters) and lone surrogates. Ordinary
/// non-ASCII names (<c>résumé.txt</c>, <c>日本.txt</c>, emoji) hold none. One definition for the tester, which does not
/// archive such a file, and the reporter, which neither records nor shows one.
/// </summary>
public static class HostileCharacters
{
    /// <summary>Longest escaped text <see cref="Escaped"/> returns by default (before its "…").</summary>
    public const int MaxShownChars = 200;

    /// <summary>True for a control, format, line separator or paragraph separator character.</summary>
    public static bool IsHostile(Rune r) =>
        Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>The first hostile character of <paramref name="text"/> described (<c>U+202E (a bidi control character)</c>), or null when it has none.</summary>
    public static string? Find(string text)
    {
        foreach (var (rune, lone) in Runes(text))
        {
            if (rune is not { } r) return $"U+{(int)lone:X4} (a lone surrogate)";
            if (IsHostile(r)) return $"{Code(r)} ({Kind(r)})";
        }
        return null;
    }

    /// <summary>
    /// <paramref name="text"/> safe to write in a log line or a message: every hostile character (and a lone surrogate) as
    /// <c>\uXXXX</c> (<c>\UXXXXXXXX</c> past the BMP), a backslash as <c>\\</c> so an escape cannot be forged, at most
    /// <paramref name="max"/> characters, then "…".
    /// </summary>
    public static string Escaped(string? text, int max = MaxShownChars)
    {
        var sb = new StringBuilder();
        foreach (var (rune, lone) in Runes(text))
        {
            if (sb.Length >= max) return sb.Append('…').ToString();
            if (rune is not { } r) sb.Append($"\\u{(int)lone:X4}");
            else if (r.Value == '\\') sb.Append("\\\\");
            else if (IsHostile(r)) sb.Append(r.Value > 0xFFFF ? $"\\U{r.Value:X8}" : $"\\u{r.Value:X4}");
            else sb.Append(r.ToString());
        }
        return sb.ToString();
    }

    /// <summary><paramref name="text"/> with every hostile character (and a lone surrogate) replaced by U+FFFD, for a page.</summary>
    public static string Replaced(string? text)
    {
        var sb = new StringBuilder();
        foreach (var (rune, _) in Runes(text))
            sb.Append(rune is { } r && !IsHostile(r) ? r.ToString() : "\uFFFD");
        return sb.ToString();
    }

    /// <summary>The text's characters in order: each a rune, or (rune null) a lone surrogate with its code unit.</summary>
    private static IEnumerable<(Rune? Rune, char Lone)> Runes(string? text)
    {
        var s = text ?? "";
        for (var i = 0; i < s.Length;)
        {
            if (Rune.DecodeFromUtf16(s.AsSpan(i), out var r, out var used) != OperationStatus.Done)
            {
                yield return (null, s[i]);
                i++;
            }
            else
            {
                yield return (r, '\0');
                i += used;
            }
        }
    }

    private static string Code(Rune r) => r.Value > 0xFFFF ? $"U+{r.Value:X6}" : $"U+{r.Value:X4}";

    private static string Kind(Rune r) => r.Value switch
    {
        >= 0x202A and <= 0x202E or >= 0x2066 and <= 0x2069 or 0x200E or 0x200F or 0x061C => "a bidi control character",
        _ => Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.Control => "a control character",
            UnicodeCategory.LineSeparator => "a line separator",
            UnicodeCategory.ParagraphSeparator => "a paragraph separator",
            _ => "an invisible format character",
        },
    };
}
