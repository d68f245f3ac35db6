using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Slipway.Reporter.Comments;

/// <summary>
/// Text from a run (a step's output, a failure reason, names from the repository's config) is written by the
/// uploader and quoted back into Gerrit, so it is bounded and made inert: ANSI escape sequences are removed, a
/// carriage return keeps what a terminal would show (the text after it), tabs become spaces, and every other
/// control, format-direction or line-separator character (VT, FF, NEL, U+2028/U+2029, bidi overrides, lone
/// surrogates) becomes U+FFFD. A quoted line therefore can never start a new, unindented line of the comment.
/// Gerrit also acts on two things in a comment's raw text whatever the Markdown says, so quoted text never carries them:
/// an <c>@</c> (Gerrit 3.7+ turns <c>@user</c> / <c>@email</c> into a mention that CCs and emails that account) becomes
/// U+FF20 FULLWIDTH COMMERCIAL AT, which reads the same and is no <c>@</c>; and the <c>&lt;</c> of Gerrit's account
/// template <c>&lt;GERRIT_ACCOUNT_n&gt;</c> (shown as that account's name and email) becomes U+FF1C.
/// Inside Slipway's own sentences such a value goes through <see cref="InlineValue"/>: plain words, or a code span.
/// </summary>
public static partial class QuotedText
{
    /// <summary>Longest quoted output line; a longer one is cut and ends with "…".</summary>
    public const int MaxLineChars = 300;

    /// <summary>Most UTF-8 bytes of quoted output in one comment (Gerrit's default comment size limit is 16 KiB).</summary>
    public const int MaxQuoteBytes = 4096;

    /// <summary>Longest one-line text (a failure reason) in a comment.</summary>
    public const int MaxOneLineChars = 1000;

    private const char Replacement = '\uFFFD';

    /// <summary>What an uploader's <c>@</c> becomes: it cannot mention anyone (see the class summary).</summary>
    public const char InertAt = '\uFF20';

    private const string AccountTemplate = "<GERRIT_ACCOUNT_";

    /// <summary>
    /// How a quoted output line starts. Gerrit renders comments as Markdown (3.8 and later) or as plain text with
    /// lines that start with a space preformatted. Four spaces after a blank line is an indented code block in
    /// Markdown and preformatted text in plain mode: either way the uploader's lines show literally, so they cannot
    /// become headings, links, images, list items or HTML that pass for Slipway's own words.
    /// </summary>
    public const string Indent = "    ";

    /// <summary>
    /// The last <paramref name="count"/> lines of <paramref name="text"/>, each made inert and at most
    /// <see cref="MaxLineChars"/> long, fewer when needed to stay within <see cref="MaxQuoteBytes"/>.
    /// </summary>
    public static IReadOnlyList<string> LastLines(string text, int count)
    {
        var lines = text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').TakeLast(count).Select(QuotedLine).ToList();
        var bytes = 0;
        var keep = 0;
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            bytes += Encoding.UTF8.GetByteCount(lines[i]) + 3; // the indentation and the line end
            if (bytes > MaxQuoteBytes) break;
            keep++;
        }
        return lines[^keep..];
    }

    /// <summary>Hostile text on one line: inert, line ends as spaces, at most <paramref name="max"/> characters.</summary>
    public static string OneLine(string text, int max = MaxOneLineChars) =>
        Cut(Inert(text.ReplaceLineEndings(" "), carriageReturns: false).Trim(), max);

    /// <summary>
    /// A value from the run (a name, a reason, a note, an image reference or tag) inside Slipway's own sentence, after
    /// <see cref="OneLine"/>. Plain words (letters, digits, spaces and <c>.,:;/=+-()'"%?…</c>, starting with a letter or
    /// digit, no URL, not a list marker) mean the same in Markdown and plain text and are shown bare, so the usual comment
    /// reads as PipelineBot's did; so are plain words around single-backtick spans (Slipway's own "step `x` failed").
    /// Anything else is a Markdown code span whose backtick fence is longer than any run of
    /// backticks in the value (CommonMark 6.1, which Gerrit's renderer follows): nothing in it is a link, image, HTML,
    /// emphasis, heading, list or the end of the span.
    /// </summary>
    public static string InlineValue(string text, int max = MaxOneLineChars)
    {
        var value = OneLine(text, max);
        if (value.Length == 0) return "(empty)";
        if (IsPlainWithCodeSpans(value)) return value;
        int longest = 0, run = 0;
        foreach (var c in value)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        var fence = new string('`', longest + 1);
        // A span that starts or ends with a backtick needs a space between it and the fence; one space each side is stripped.
        var pad = value[0] == '`' || value[^1] == '`' ? " " : "";
        return fence + pad + value + pad + fence;
    }

    // Plain words, optionally with single-backtick code spans the way Slipway writes names into its own reasons and notes
    // ("branch `x` is not a release branch"): every backtick pairs up, each span holds something, and the text outside
    // the spans is plain words (the first piece starting as PlainWords requires).
    private static bool IsPlainWithCodeSpans(string value)
    {
        var pieces = value.Split('`');
        if (pieces.Length % 2 == 0) return false; // an unpaired backtick
        for (var i = 0; i < pieces.Length; i++)
        {
            var piece = pieces[i];
            if (i % 2 == 1)
            {
                if (piece.Trim().Length == 0) return false; // "``" is a longer fence, not an empty span
                continue;
            }
            if (piece.Length == 0) continue;
            var plain = i == 0 ? PlainWords().IsMatch(piece) : PlainTail().IsMatch(piece);
            if (!plain || piece.Contains("://", StringComparison.Ordinal) || piece.Contains("www.", StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    [GeneratedRegex(@"^[\p{L}\p{Nd} .,:;/=+()'""%?\u2026-]*$")]
    private static partial Regex PlainTail();

    // Starts with a letter or digit but not as an ordered-list marker ("1. ", "2)"); only characters without meaning
    // inside a CommonMark/GFM line (no * _ ` ~ [ ] ! < > & \ # | @).
    [GeneratedRegex(@"^(?!\d{1,9}[.)](?: |$))[\p{L}\p{Nd}][\p{L}\p{Nd} .,:;/=+()'""%?…-]*$")]
    private static partial Regex PlainWords();

    private static string QuotedLine(string line)
    {
        var shown = line.LastIndexOf('\r') is var cr and >= 0 && cr < line.Length - 1 ? line[(cr + 1)..] : line; // what a terminal shows
        return Cut(Inert(shown, carriageReturns: true).TrimEnd(), MaxLineChars);
    }

    private static string Inert(string text, bool carriageReturns)
    {
        text = AnsiEscape().Replace(text, "");
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            if (c == '\t') sb.Append(' ');
            else if (c == '@') sb.Append(InertAt);
            else if (c == '<' && string.CompareOrdinal(text, i, AccountTemplate, 0, AccountTemplate.Length) == 0) sb.Append('\uFF1C');
            else if (c == '\r' && carriageReturns) continue; // a trailing CR: nothing to show
            else if (IsUnsafe(c)) sb.Append(Replacement);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C';

    private static string Cut(string text, int max)
    {
        if (text.Length <= max) return text;
        var end = max - 1;
        if (char.IsHighSurrogate(text[end - 1])) end--; // never split a surrogate pair
        return text[..end] + "…";
    }

    // CSI (colours, cursor moves), OSC (titles, hyperlinks) and two-character escapes.
    [GeneratedRegex(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(?:\x07|\x1B\\)?|[@-Z\\-_])")]
    private static partial Regex AnsiEscape();
}
