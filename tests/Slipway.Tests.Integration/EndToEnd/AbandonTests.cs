using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Abandoning a change stops its runs, whatever stage they are in (even one still being planned, whose run.started
/// comes after the abandon), and nothing starts on it again until it is restored. Six services as processes.
/// </summary>
public sealed class AbandonTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task Abandoning_stops_the_runs_of_the_change_and_a_recheck_starts_nothing_until_it_is_restored()
    {
        await using var env = await PipelineEnvironment.StartAsync("abandon");
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
            // At once: the run is being planned (or has just started) when the change is abandoned.
            await gerrit.AbandonAsync(upload.ChangeNumber, "not needed");
            await gerrit.CommentAsync(upload.ChangeNumber, "recheck");

            await Task.Delay(TimeSpan.FromSeconds(40));
            var events = env.PipelineEvents.Events.DistinctBy(e => e.Id).ToList();
            var started = events.Where(e => e.Type == EventTypes.NameOf<RunStarted>()).ToList();
            Assert.True(started.Count <= 1, $"{started.Count} runs started on an abandoned change");
            foreach (var run in started)
            {
                var finished = Assert.Single(events, e => e.RunId == run.RunId && e.Type == EventTypes.NameOf<RunFinished>()).DataAs<RunFinished>();
                Assert.Equal((RunOutcome.Cancelled, "the change was abandoned"), (finished.Outcome, finished.Reason));
                Assert.DoesNotContain(events, e => e.RunId == run.RunId && e.Type == EventTypes.NameOf<TestStarted>());
            }

            // Restored, it runs again.
            await gerrit.RestoreAsync(upload.ChangeNumber);
            await gerrit.CommentAsync(upload.ChangeNumber, "recheck");
            var again = await env.PipelineEvents.WaitForAsync("the recheck after the restore",
                e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger.Kind == TriggerKind.Recheck, Timeout);
            Assert.Equal(upload.ChangeNumber, again.DataAs<RunStarted>().Trigger.Change);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }
}
