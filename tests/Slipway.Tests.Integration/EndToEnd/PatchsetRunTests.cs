using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Patch-set runs as a developer sees them, through the six services as processes: a failing test votes -1 with
/// the failing output, a `recheck` comment starts a new run, a newer patch set cancels the older run.
/// </summary>
public sealed class PatchsetRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_failing_test_stops_the_run_and_gerrit_gets_verified_minus_one_with_the_output()
    {
        await using var env = await PipelineEnvironment.StartAsync("fail");
        await Explain(env, async () =>
        {
            // "Hi" breaks the unit test that expects "Hello".
            var upload = await env.Gerrit.Gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage, greeting: "Hi"), "Say hi");
            var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout);
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end",
                e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Equal(("test", "run-test"), (finished.FailedStage, finished.FailedStep));
            Assert.Equal("run-test failed: tests exited with code 1", finished.Reason);
            Assert.Equal([StepOutcome.Succeeded, StepOutcome.Failed, StepOutcome.Skipped, StepOutcome.Skipped], finished.Steps.Select(s => s.Outcome));
            var failed = env.PipelineEvents.Events.Single(e => e.Type == EventTypes.NameOf<TestFailed>()).DataAs<TestFailed>();
            Assert.Equal(1, failed.ExitCode);
            Assert.Contains("AssertionError", failed.OutputTail);
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<BuildStarted>()
                && e.DataAs<BuildStarted>().Step == "build-production");

            var final = await WaitForReviewAsync(env, upload.ChangeNumber, r => r.Labels.ContainsKey("Verified"));
            Assert.Equal(-1, final.Labels["Verified"]);
            Assert.Contains("FAILURE", final.Message);
            Assert.Contains("AssertionError", final.Message);
        });
    }

    [Fact]
    public async Task Recheck_starts_a_new_run_and_a_new_patch_set_cancels_the_older_run()
    {
        await using var env = await PipelineEnvironment.StartAsync("again");
        await Explain(env, async () =>
        {
            var gerrit = env.Gerrit.Gerrit;
            var ps1 = await gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
            var run1 = (await env.PipelineEvents.WaitForAsync("run 1", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout)).RunId!;
            await env.PipelineEvents.WaitForAsync("run 1 finishing", e => e.RunId == run1 && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);

            await gerrit.CommentAsync(ps1.ChangeNumber, "recheck");
            var run2 = (await env.PipelineEvents.WaitForAsync("the recheck run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Kind == TriggerKind.Recheck, Timeout)).RunId!;
            Assert.NotEqual(run1, run2);

            // A second patch set while the recheck run is building: the recheck run is cancelled, the new one runs.
            await env.PipelineEvents.WaitForAsync("run 2 building", e => e.RunId == run2 && e.Type == EventTypes.NameOf<BuildStarted>(), Timeout);
            // (a code change: a patch set with the same tree is NO_CODE_CHANGE, which starts no run by default)
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            files["README.md"] = "The hello service.\n";
            var ps2 = await gerrit.UploadPatchsetAsync(env.Project, "master", files, "Add hello service", ps1.ChangeId);
            Assert.Equal(2, ps2.PatchSet);
            var cancelled = (await env.PipelineEvents.WaitForAsync("run 2 ending",
                e => e.RunId == run2 && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.Equal((RunOutcome.Cancelled, "superseded by patch set 2"), (cancelled.Outcome, cancelled.Reason));
            var run3 = (await env.PipelineEvents.WaitForAsync("the patch set 2 run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Patchset == 2, Timeout)).RunId!;
            var done = (await env.PipelineEvents.WaitForAsync("run 3 finishing",
                e => e.RunId == run3 && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Succeeded, done.Outcome);
            // Nothing of the cancelled run happens after its end.
            var events = env.PipelineEvents.Events.ToList();
            var end = events.FindIndex(e => e.RunId == run2 && e.Type == EventTypes.NameOf<RunFinished>());
            Assert.DoesNotContain(events.Skip(end + 1), e => e.RunId == run2 && e.Type.EndsWith(".succeeded.v1"));
            Assert.Single(env.PipelineEvents.Events, e => e.RunId == run2 && e.Type == EventTypes.NameOf<RunFinished>());
        });
    }

    private async Task Explain(PipelineEnvironment env, Func<Task> test)
    {
        try { await test(); }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<Slipway.GerritStandIn.PostedReview> WaitForReviewAsync(PipelineEnvironment env, int change,
        Func<Slipway.GerritStandIn.PostedReview, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(change).FirstOrDefault(match) is { } review) return review;
            await Task.Delay(250);
        }
        throw new TimeoutException("no such review within 60 s");
    }
}
