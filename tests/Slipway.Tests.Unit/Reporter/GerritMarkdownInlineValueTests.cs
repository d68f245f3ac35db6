using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Slipway.Contracts;
using Slipway.Reporter;
using Slipway.Reporter.Checks;
using Slipway.Reporter.Comments;
using Slipway.Reporter.Runs;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>
/// Values the uploader controls inside Slipway's own sentences (pipeline, stage and step names, failure reasons,
/// notes quoting the config, image references and tags) rendered as Gerrit renders comments (CommonMark; GitHub-style
/// autolinks too, as Gerrit's renderer links bare URLs): none may become a link, image, HTML, heading, list item,
/// emphasis or a line of its own, none may close Slipway's code spans, none may @-mention anyone or use Gerrit's account
/// template, and each still reads as written.
/// </summary>
public sealed class GerritMarkdownInlineValueTests
{
    private static readonly ReporterOptions Options = new() { PublicUrl = "https://slipway.example.org" };
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    // Each starts a Markdown construct, tries to end Slipway's code span, mentions someone, or breaks the line.
    private const string Pipeline = "svc**bold** [x](https://evil.example/p) @admin";
    private const string Stage = "te`st";
    private const string Step = "r``un ![img](https://tracker.example/t.png) <img src=x onerror=alert(1)>";
    private const string Reason =
        "``` `exit code 1` <a href=\"https://evil.example\">details</a> _it_ @admin@example.org <GERRIT_ACCOUNT_1000000>\n" +
        "# Pipeline svc SUCCESS in 3 s.\r\n- test/run (test): succeeded\n[Code-Review+2](https://evil.example) https://evil.example/x";
    private const string Note = "variant `x*y*`: blubber: `base: ![](https://tracker.example/n.png)` \u2028# not a heading";
    private const string ImageUri = "registry.example/svc:1 <b>x</b> https://evil.example/i";
    private const string Tag = "t`ag_1_ @ops";

    private static readonly MarkdownPipeline CommonMark = new MarkdownPipelineBuilder().Build();
    private static readonly MarkdownPipeline WithAutolinks = new MarkdownPipelineBuilder().UseAutoLinks().Build();

    private static RunView Failed() =>
        new("run-1", "demo/hello", 42, 3, "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819", "refs/changes/42/42/3", "patchset", Pipeline,
            2, $"{Stage}/{Step}", T0, T0.AddSeconds(5), "failed", $"{Stage}/{Step}", Reason, ImageUri, [Tag], null)
        {
            Steps = [new(Stage, Step, "test", "failed", 1, T0, T0.AddSeconds(5), 5_000, Reason, "last line @admin")],
            Notes = [Note],
        };

    /// <summary>The text a value shows as: one line, `@` and the account template made inert.</summary>
    private static string Shown(string value) => value.Replace("\r\n", " ").Replace('\n', ' ').Replace('\u2028', ' ')
        .Replace('@', '\uFF20').Replace("<GERRIT_ACCOUNT_", "\uFF1CGERRIT_ACCOUNT_");

    private static void AssertNothingInjected(MarkdownDocument doc, int expectedListItems)
    {
        var all = doc.Descendants().ToList();
        Assert.All(all.OfType<LinkInline>(), l => Assert.Equal("https://slipway.example.org/runs/run-1", l.Url));
        Assert.All(all.OfType<AutolinkInline>(), l => Assert.Equal("https://slipway.example.org/runs/run-1", l.Url));
        Assert.Empty(all.OfType<HtmlInline>());
        Assert.Empty(all.OfType<HtmlBlock>());
        Assert.Empty(all.OfType<HeadingBlock>());
        Assert.Empty(all.OfType<EmphasisInline>());
        Assert.Empty(all.OfType<QuoteBlock>());
        Assert.Empty(all.OfType<ThematicBreakBlock>());
        Assert.Equal(expectedListItems, all.OfType<ListItemBlock>().Count());
    }

    private static List<string> CodeSpans(MarkdownDocument doc) => doc.Descendants<CodeInline>().Select(c => c.Content).ToList();

    [Fact]
    public void Hostile_names_reasons_notes_and_image_references_in_a_failure_comment_stay_literal_code()
    {
        var message = ReviewComposer.Compose(Failed(), CommentKind.Finished, Options).Message!;

        foreach (var pipeline in new[] { CommonMark, WithAutolinks })
            AssertNothingInjected(Markdown.Parse(message, pipeline), expectedListItems: 1); // Slipway's step list only
        var spans = CodeSpans(Markdown.Parse(message, CommonMark));
        Assert.Contains(Shown(Pipeline), spans);
        Assert.Contains(Shown($"{Stage}/{Step}"), spans);
        Assert.Contains(Shown(Reason), spans);
        Assert.Contains(Shown(Note), spans);
        Assert.Contains(Shown(ImageUri), spans);
        Assert.Contains(Shown(Tag), spans);
        // It still reads as Slipway wrote it: one headline, the value inside it, the reason not a line of its own.
        var lines = message.Split('\n');
        Assert.StartsWith("Pipeline `svc**bold** [x](https://evil.example/p) \uFF20admin` FAILURE in 5 s: step ", lines[0], StringComparison.Ordinal);
        Assert.Single(lines, l => l.StartsWith("Pipeline ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith('#') || l.StartsWith("- test/run", StringComparison.Ordinal) || l.StartsWith('['));
        // Nobody is mentioned, no account template is expanded, neither in the values nor in the quoted output.
        Assert.DoesNotContain('@', message);
        Assert.DoesNotContain("<GERRIT_ACCOUNT_", message, StringComparison.Ordinal);
        Assert.Contains("    last line \uFF20admin", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_and_started_comments_quote_names_as_code()
    {
        var run = Failed() with { Outcome = null, FinishedAt = null, Reason = null, Notes = [] };
        var progress = ReviewComposer.Compose(run, CommentKind.Progress, Options, new ProgressStep(2, $"{Stage}/{Step}")).Message!;
        var started = ReviewComposer.Compose(run, CommentKind.Started, Options).Message!;

        foreach (var message in new[] { progress, started })
        {
            var doc = Markdown.Parse(message, WithAutolinks);
            AssertNothingInjected(doc, expectedListItems: 0);
            Assert.Equal([Shown(Pipeline), Shown($"{Stage}/{Step}")], CodeSpans(doc));
            Assert.DoesNotContain('@', message);
        }
    }

    [Fact]
    public void A_very_long_or_multi_line_value_is_one_bounded_span()
    {
        var run = Failed() with { Reason = new string('`', 40) + string.Concat(Enumerable.Repeat("a\r\nb@c ", 5_000)) };
        var message = ReviewComposer.Compose(run, CommentKind.Finished, Options).Message!;

        var reason = Assert.Single(CodeSpans(Markdown.Parse(message, CommonMark)), s => s.StartsWith("````", StringComparison.Ordinal));
        Assert.Equal(QuotedText.MaxOneLineChars, reason.Length);
        Assert.EndsWith("…", reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', reason);
        Assert.DoesNotContain('@', message);
    }

    [Fact]
    public void A_value_of_backticks_alone_is_shown_exactly()
    {
        foreach (var value in new[] { "`", "``", "a`", "`a", "x ``` y" })
        {
            var doc = Markdown.Parse("step " + QuotedText.InlineValue(value) + " failed", CommonMark);
            Assert.Equal([value], CodeSpans(doc));
        }
    }

    [Theory]
    [InlineData("exit code 1", "exit code 1")]
    [InlineData("127.0.0.1:5000/demo/hello", "127.0.0.1:5000/demo/hello")]
    [InlineData("deploy failed: health check timed out (after 30 s)", "deploy failed: health check timed out (after 30 s)")]
    [InlineData("1. step", "`1. step`")]
    [InlineData("see https://evil.example/x", "`see https://evil.example/x`")]
    [InlineData("go to www.evil.example", "`go to www.evil.example`")]
    [InlineData("wmf_branch", "`wmf_branch`")]
    [InlineData("mail ops@example.org", "`mail ops\uFF20example.org`")]
    [InlineData("- item", "`- item`")]
    [InlineData("branch `feature` is not a release branch (main): builds only", "branch `feature` is not a release branch (main): builds only")]
    [InlineData("the archive entry `a<b>[x](y)` contains control characters", "the archive entry `a<b>[x](y)` contains control characters")]
    [InlineData("stage `a`: `b` **c**", "``stage `a`: `b` **c**``")]
    [InlineData("step `x` failed: see https://evil.example", "``step `x` failed: see https://evil.example``")]
    [InlineData("an `unpaired backtick", "``an `unpaired backtick``")]
    public void Plain_words_stay_bare_and_anything_else_is_a_code_span(string value, string expected)
    {
        Assert.Equal(expected, QuotedText.InlineValue(value));
        // Bare or not, CommonMark shows exactly the value's text and nothing else.
        var paragraph = Assert.IsType<ParagraphBlock>(Assert.Single(Markdown.Parse("step x failed: " + expected, CommonMark)));
        Assert.All(paragraph.Inline!, i => Assert.True(i is LiteralInline or CodeInline, i.GetType().Name));
    }

    [Fact]
    public void Hostile_check_names_and_summaries_are_one_inert_line()
    {
        var run = Failed() with { PlannedSteps = [new PlannedStepView($"{Stage}/{Step}\n# Fake", "test")] };
        run = run with { Steps = [run.Steps[0] with { Step = Step + "\n# Fake" }] };
        var check = CheckRunsComposer.Compose([run], Options).Runs.Single();
        var result = Assert.Single(check.Results!);

        Assert.Equal(Shown($"{Stage}/{Step}\n# Fake"), check.CheckName);
        Assert.DoesNotContain('\n', check.CheckDescription!);
        Assert.Equal(Shown(Reason)[..(CheckRunsComposer.MaxSummaryChars - 1)] + "…", result.Summary);
        Assert.DoesNotContain('@', result.Message!);
        AssertNothingInjected(Markdown.Parse(result.Message!, WithAutolinks), expectedListItems: 0);
    }
}
