using Slipway.Reporter.Runs;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>
/// Artifact file names come from the test container: on the run page a line break, another control character, a
/// line separator or a bidi override (which makes <c>exe.txt</c> read as <c>txt.exe</c>) shows as U+FFFD, while the
/// download link still names the real file.
/// </summary>
public sealed class RunArtifactNamesTests
{
    [Fact]
    public void Hostile_artifact_names_show_on_one_line_without_direction_overrides()
    {
        var html = RunArtifactEndpoints.Html("run-1",
        [
            new RunArtifactView { Stage = "test", Step = "run\u2028# x", Path = "logs/report\u202Eexe.txt", SizeBytes = 3, Sha256 = "ab" },
            new RunArtifactView { Stage = "test", Step = "run", Path = "logs/a\r\nb<i>.txt", SizeBytes = 4, Sha256 = "cd" },
        ]);

        Assert.Contains(">logs/report\uFFFDexe.txt</a>", html, StringComparison.Ordinal);
        Assert.Contains(">logs/a\uFFFD\uFFFDb&lt;i&gt;.txt</a>", html, StringComparison.Ordinal);
        Assert.Contains("from run\uFFFD# x</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain('\u202E', html);
        Assert.DoesNotContain('\u2028', html);
        Assert.DoesNotContain('\n', html);
        Assert.Contains("href=\"/runs/run-1/artifacts/test/logs/report%E2%80%AEexe.txt\"", html, StringComparison.Ordinal);
    }
}
