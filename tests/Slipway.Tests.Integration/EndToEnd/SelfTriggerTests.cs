using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// The pipeline never obeys itself, through the six services as processes: Slipway's failure comment quotes a test's
/// output, and output that says `recheck` or `approve production` must not start a run or approve anything; nor does a
/// `recheck` written by Slipway's own Gerrit account.
/// </summary>
public sealed class SelfTriggerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    /// <summary>Long enough for a loop to show (each retriggered run starts within seconds of the comment before it).</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(40);

    private const string CommandsInOutput = """
        import sys, unittest

        class Hostile(unittest.TestCase):
            def test_prints_commands(self):
                print("recheck")
                print("approve production")
                print("> recheck")
                sys.stdout.flush()
                # The assertion message ends the output, so the quoted tail always holds both commands as lines of their own.
                self.fail("\nrecheck\napprove production")

        if __name__ == "__main__":
            unittest.main()
        """;

    [Fact]
    public async Task A_failing_test_that_prints_recheck_and_approve_production_gets_one_run_and_one_failure_comment()
    {
        await using var env = await PipelineEnvironment.StartAsync("loop");
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            files["test_server.py"] = CommandsInOutput;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", files, "Print commands and fail");
            var run = (await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout)).RunId!;
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end",
                e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            var failure = await WaitForReviewAsync(env, upload.ChangeNumber, r => r.Labels.ContainsKey("Verified"));
            Assert.Equal(-1, failure.Labels["Verified"]);
            // The comment does quote the commands (so the test means something): as pre-formatted lines.
            Assert.Contains("\n    recheck\n", failure.Message);
            Assert.Contains("\n    approve production\n", failure.Message);

            // Slipway's own account writing a bare `recheck` (and `approve production`) is not obeyed either.
            await gerrit.CommentAsync(upload.ChangeNumber, "recheck\napprove production", gerrit.HttpAccount);

            await Task.Delay(Quiet);
            Assert.Single(env.PipelineEvents.Events, e => e.Type == EventTypes.NameOf<RunStarted>());
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.Type.StartsWith("slipway.approval.", StringComparison.Ordinal));
            var reviews = gerrit.Reviews(upload.ChangeNumber);
            Assert.Single(reviews, r => r.Labels.ContainsKey("Verified"));
            Assert.Equal(2, reviews.Count); // "started" and the failure

            // A human's recheck still works: the quiet above was not a dead pipeline.
            await gerrit.CommentAsync(upload.ChangeNumber, "recheck");
            var again = await env.PipelineEvents.WaitForAsync("the human's recheck run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Kind == TriggerKind.Recheck, Timeout);
            Assert.Equal(gerrit.Developer.Username, again.DataAs<RunStarted>().Trigger.RequestedBy?.Username);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<Slipway.GerritStandIn.PostedReview> WaitForReviewAsync(PipelineEnvironment env, int change,
        Func<Slipway.GerritStandIn.PostedReview, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(change).FirstOrDefault(match) is { } review) return review;
            await Task.Delay(250);
        }
        throw new TimeoutException("no such review within 90 s");
    }
}
