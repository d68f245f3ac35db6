using System.Text;
using Slipway.Reporter;
using Slipway.Reporter.Comments;
using Slipway.Reporter.Runs;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>
/// Output and reasons quoted into Gerrit are the uploader's text: bounded in lines and bytes, without control
/// characters, and no quoted line can leave the indented quote block.
/// </summary>
public sealed class QuotedOutputTests
{
    private static readonly ReporterOptions Options = new() { PublicUrl = "https://slipway.example.org" };
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    private static string Failure(string output, string reason = "exit code 1")
    {
        var run = new RunView("run-1", "demo/hello", 42, 3, "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819", "refs/changes/42/42/3", "patchset", "service",
            2, "test/build", T0, T0.AddSeconds(5), "failed", "test/run", reason, null, null, null)
        {
            Steps = [new("test", "run", "test", "failed", 1, T0, T0.AddSeconds(5), 5_000, reason, output)],
        };
        return ReviewComposer.Compose(run, CommentKind.Finished, Options).Message!;
    }

    /// <summary>The comment's lines between "Last lines of" and the blank line that ends the quote.</summary>
    private static string[] Quote(string message)
    {
        var lines = message.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("Last lines of ", StringComparison.Ordinal)) + 2; // after the blank line that opens the code block
        return lines[start..Array.IndexOf(lines, "", start)];
    }

    [Fact]
    public void Line_breaks_of_every_kind_stay_inside_the_quote()
    {
        var output = "first\rrecheck\n" + "a\u000bb\u000cc\u0085d\u2028approve production\u2029e\n" + "x\r\n" + "last\n";

        var message = Failure(output);

        var quote = Quote(message);
        Assert.Equal(["    recheck", "    a\uFFFDb\uFFFDc\uFFFDd\uFFFDapprove production\uFFFDe", "    x", "    last"], quote);
        Assert.DoesNotContain('\r', message);
        Assert.DoesNotContain(message, c => c is '\u000b' or '\u000c' or '\u0085' or '\u2028' or '\u2029');
        // Every line outside the quote is Slipway's own: none starts with the uploader's words.
        Assert.DoesNotContain(message.Split('\n'), l => l.StartsWith("recheck", StringComparison.Ordinal) || l.StartsWith("approve", StringComparison.Ordinal));
    }

    [Fact]
    public void Escape_sequences_and_direction_overrides_are_removed_or_replaced()
    {
        var output = "\u001b[31mFAIL\u001b[0m red\n\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007\n\u202egnp.exe\n\u0000nul\u007fdel\tTab";

        Assert.Equal(["    FAIL red", "    link", "    \uFFFDgnp.exe", "    \uFFFDnul\uFFFDdel Tab"], Quote(Failure(output)));
    }

    [Fact]
    public void The_quote_is_bounded_in_lines_line_length_and_bytes()
    {
        var longLine = new string('x', 20_000);
        var quote = Quote(Failure(longLine + "\nshort"));
        Assert.Equal(2, quote.Length);
        Assert.Equal("    " + new string('x', QuotedText.MaxLineChars - 1) + "…", quote[0]);
        Assert.Equal("    short", quote[1]);

        var wide = string.Join("\n", Enumerable.Range(1, 40).Select(i => $"{i:00} " + new string('é', 290)));
        quote = Quote(Failure(wide));
        Assert.InRange(Encoding.UTF8.GetByteCount(string.Join("\n", quote)), 1, QuotedText.MaxQuoteBytes);
        Assert.StartsWith("    40 ", quote[^1]); // the last lines are the ones kept
        Assert.True(quote.Length < ReviewComposer.QuotedLines);
    }

    [Fact]
    public void A_hostile_reason_stays_on_the_first_line_and_is_bounded()
    {
        var message = Failure("out", reason: "GET /x failed: got \"a\r\nrecheck\n\u001b[2Japprove production\"" + new string('y', 5000));

        var first = message.Split('\n')[0];
        Assert.StartsWith("Pipeline service FAILURE in 5 s: step test/run failed: GET /x failed: got \"a recheck approve production\"yyy", first);
        Assert.EndsWith("…", first);
        Assert.InRange(first.Length, 1, QuotedText.MaxOneLineChars + 100);
        Assert.DoesNotContain(message.Split('\n'), l => l.StartsWith("recheck", StringComparison.Ordinal) || l.StartsWith("approve", StringComparison.Ordinal));
    }

    [Fact]
    public void Ordinary_output_is_quoted_unchanged() =>
        Assert.Equal(["    Traceback (most recent call last):", "      File \"test_server.py\", line 9", "    AssertionError: 'Hi' != 'Hello' ✗"],
            Quote(Failure("Traceback (most recent call last):\n  File \"test_server.py\", line 9\nAssertionError: 'Hi' != 'Hello' ✗\n")));
}
