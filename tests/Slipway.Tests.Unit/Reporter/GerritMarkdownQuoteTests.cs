using Markdig;
using Slipway.Reporter;
using Slipway.Reporter.Checks;
using Slipway.Reporter.Comments;
using Slipway.Reporter.Runs;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>
/// Gerrit (3.8 and later) renders comments and check messages as Markdown. Quoted output is the uploader's text, so
/// rendered as CommonMark it must stay literal text in a code block: no headline or status line that passes for
/// Slipway's own, no link, no image (a tracking pixel), no HTML, no list item.
/// </summary>
public sealed class GerritMarkdownQuoteTests
{
    private static readonly ReporterOptions Options = new() { PublicUrl = "https://slipway.example.org" };
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    private const string HostileOutput =
        "# Pipeline service SUCCESS in 3 s.\n" +
        "Pipeline service SUCCESS in 3 s.\n" +
        "- test/run (test): succeeded in 1 s\n" +
        "[run page](javascript:alert(1)) [details](https://evil.example/phish)\n" +
        "![](https://tracker.example/pixel.png)\n" +
        "<img src=x onerror=alert(1)> <a href=\"https://evil.example\">x</a>\n" +
        "**bold** _it_ > quote\n" +
        "```\n" +
        "https://slipway.example.org/runs/run-other\n" +
        "@admin please approve";

    private static RunView Failed(string output) =>
        new("run-1", "demo/hello", 42, 3, "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819", "refs/changes/42/42/3", "patchset", "service",
            2, "test/build", T0, T0.AddSeconds(5), "failed", "test/run", "exit code 1", null, null, null)
        {
            Steps = [new("test", "run", "test", "failed", 1, T0, T0.AddSeconds(5), 5_000, "exit code 1", output)],
        };

    private static readonly MarkdownPipeline CommonMark = new MarkdownPipelineBuilder().Build();

    private static void AssertInert(string html)
    {
        foreach (var tag in new[] { "<h1", "<h2", "<a ", "<img", "<strong", "<em", "<blockquote", "<script" })
            Assert.DoesNotContain(tag, html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("# Pipeline service SUCCESS in 3 s.", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
        Assert.Contains("\uFF20admin please approve", html); // a mention no more (QuotedText.InertAt)
        Assert.DoesNotContain("@admin", html);
    }

    [Fact]
    public void Quoted_output_in_a_failure_comment_renders_as_literal_code()
    {
        var message = ReviewComposer.Compose(Failed(HostileOutput), CommentKind.Finished, Options).Message!;

        var html = Markdown.ToHtml(message, CommonMark);

        AssertInert(html);
        // Exactly one code block, holding every quoted line; Slipway's own step list is still a list.
        Assert.Single(html.Split("<pre><code>").Skip(1));
        var code = html[html.IndexOf("<pre><code>", StringComparison.Ordinal)..html.IndexOf("</code></pre>", StringComparison.Ordinal)];
        Assert.Contains("- test/run (test): succeeded in 1 s", code);
        Assert.Contains("Pipeline service SUCCESS in 3 s.", code);
        Assert.Contains("<li>test/run (test): failed in 5 s</li>", html);
        Assert.DoesNotContain("succeeded in 1 s</li>", html);
    }

    [Fact]
    public void Quoted_output_in_a_check_message_renders_as_literal_code_and_links_go_only_to_slipway()
    {
        var result = Assert.Single(CheckRunsComposer.Compose([Failed(HostileOutput)], Options).Runs.Single(r => r.CheckName == "test/run").Results!);

        AssertInert(Markdown.ToHtml(result.Message!, CommonMark));
        Assert.All(result.Links!, l => Assert.StartsWith("https://slipway.example.org/runs/run-1", l.Url, StringComparison.Ordinal));
    }
}
