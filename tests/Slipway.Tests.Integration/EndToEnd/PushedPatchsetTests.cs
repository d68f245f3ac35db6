using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A patch set pushed with `git push` to `refs/for/master` (not the stand-in's control API) runs through the six
/// services like any other: the way the adversarial suite pushes real repository content.
/// </summary>
public sealed class PushedPatchsetTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_patch_set_pushed_with_git_runs_through_the_pipeline_to_verified_plus_one()
    {
        await using var env = await PipelineEnvironment.StartAsync("pushed");
        var source = Directory.CreateTempSubdirectory("slipway-pushed-").FullName;
        try
        {
            GerritPush.WriteFiles(source, SampleProject.Files(env.BaseImage));
            var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, "Add hello service");
            Assert.Equal((1, 1), (pushed.ChangeNumber, pushed.PatchSet));
            Assert.Contains($"/c/{env.Project}/+/1 Add hello service [NEW]", pushed.PushOutput);

            var startedEvent = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout);
            var (runId, started) = (startedEvent.RunId!, startedEvent.DataAs<RunStarted>());
            await using var browser = DashboardBrowser.Start(env.UrlOf("reporter"), env.Project, runId, "pushed-patchset");
            Assert.Equal((TriggerKind.Patchset, 1, 1, pushed.Revision, pushed.ChangeId),
                (started.Trigger.Kind, started.Trigger.Change, started.Trigger.Patchset, started.Trigger.Revision, started.Trigger.ChangeId));
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end", e => e.Type == EventTypes.NameOf<RunFinished>(), Timeout))
                .DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Succeeded, finished.Outcome);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            Slipway.GerritStandIn.PostedReview? verdict = null;
            while (verdict is null && DateTime.UtcNow < deadline)
            {
                verdict = env.Gerrit.Gerrit.Reviews(1).FirstOrDefault(r => r.Labels.ContainsKey("Verified"));
                if (verdict is null) await Task.Delay(250);
            }
            Assert.NotNull(verdict);
            Assert.Equal((1, 1, pushed.Revision), (verdict.Labels["Verified"], verdict.PatchSet, verdict.Revision));

            await GerritChecksTab.AssertShowsPassedRunAsync(env, started, pushed.ChangeNumber, pushed.PatchSet);
            await RunsApiAndCli.AssertListsFinishedRunAsync(env, runId, started, pushed.ChangeNumber);

            // The dashboard in a real browser saw the run listed while running and finish without a reload.
            var seen = await browser.SeenAsync();
            var planned = started.Plan.Stages.SelectMany(s => s.Steps.Select(step => $"{s.Name}/{step.Name}")).ToList();
            Assert.Equal("running", seen.GetProperty("firstState").GetString());
            Assert.Equal(("succeeded", planned.Count.ToString(), planned.Count.ToString()),
                (seen.GetProperty("lastState").GetString(), seen.GetProperty("lastProgress").GetString(), seen.GetProperty("total").GetString()));
            Assert.Equal(planned, seen.GetProperty("steps").EnumerateArray().Select(x => x.GetString()));
            Assert.All(seen.GetProperty("stepStates").EnumerateArray(), x => Assert.Equal("succeeded", x.GetString()));
            Assert.False(string.IsNullOrWhiteSpace(seen.GetProperty("log").GetString()));
            Assert.True(seen.GetProperty("trendCharts").GetInt32() >= 1);
            Assert.False(seen.GetProperty("phoneOverflow").GetBoolean(), "the runs page is wider than a phone");
            Assert.False(seen.GetProperty("phoneRunOverflow").GetBoolean(), "the run page is wider than a phone");
            foreach (var shot in new[] { "runs-running.png", "runs.png", "run.png", "trends.png", "runs-phone.png", "run-phone.png" })
                Assert.True(new FileInfo(Path.Combine(browser.ScreenshotDir, shot)).Length > 1000, $"screenshot {shot} is missing");
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            try { Directory.Delete(source, recursive: true); } catch (IOException) { }
        }
    }
}
