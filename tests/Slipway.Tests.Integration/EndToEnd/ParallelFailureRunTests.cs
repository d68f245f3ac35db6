using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A run step that fails at run time in a parallel execution graph (issue 11, as Jenkins' <c>parallel</c> under
/// PipelineLib): the steps that depend on it never start, the independent branches run to their end, the run fails,
/// and the Gerrit comment names every failed step; the pipeline's <c>notify</c> asks once per failed stage, and the
/// reporter mails each request once through a real SMTP server on 127.0.0.1, only to the operator's allowed domains.
/// </summary>
public sealed class ParallelFailureRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    // Three parallel chains: `fails` (then `after`, which needs it), `slow` (still running when `fails` fails) and `breaks`.
    private const string Config = """
        pipelines:
          par:
            blubberfile: blubber.yaml
            notify:
              email: {to: [team@example.org, victim@elsewhere.test]}
            stages:
              - name: fails
              - name: after
                build: slow
                run: true
              - name: slow
              - name: breaks
            execution:
              - [fails, after]
              - [slow]
              - [breaks]
        """;

    private static IReadOnlyDictionary<string, string?> Files(string baseImage)
    {
        var files = SampleProject.Files(baseImage).ToDictionary();
        files[".pipeline/blubber.yaml"] += """

              fails:
                entrypoint: [/bin/sh, -c, "echo the first failure; exit 3"]
              breaks:
                entrypoint: [/bin/sh, -c, "sleep 2; echo the second failure; exit 4"]
              slow:
                entrypoint: [/bin/sh, -c, "sleep 20; echo slow branch done"]
            """;
        files[".pipeline/config.yaml"] = Config;
        return files;
    }

    [Fact]
    public async Task A_failed_run_step_stops_only_its_dependants_and_the_other_branches_run_to_their_end()
    {
        await using var smtp = await SmtpSink.StartAsync();
        await using var env = await PipelineEnvironment.StartAsync("parfail", new Dictionary<string, string?>
        {
            ["Reporter__Mail__Host"] = "127.0.0.1",
            ["Reporter__Mail__Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Reporter__Mail__Security"] = "None",
            ["Reporter__Mail__From"] = "Slipway <slipway@ci.example.org>",
            ["Reporter__Mail__AllowedDomains__0"] = "example.org",
        });
        var source = Directory.CreateTempSubdirectory("slipway-parfail-").FullName;
        try
        {
            GerritPush.WriteFiles(source, Files(env.BaseImage));
            var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, "Parallel branches");

            var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Revision == pushed.Revision, Timeout);
            var end = await env.PipelineEvents.WaitForAsync("the end of the run",
                e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
            var finished = end.DataAs<RunFinished>();

            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Equal("fails-run", finished.FailedStep);
            Assert.Equal("fails-run failed: tests exited with code 3; breaks-run failed: tests exited with code 4", finished.Reason);
            var outcomes = finished.Steps.ToDictionary(s => s.Name, s => s.Outcome);
            Assert.Equal(StepOutcome.Failed, outcomes["fails-run"]);
            Assert.Equal(StepOutcome.Failed, outcomes["breaks-run"]);
            Assert.Equal(StepOutcome.Succeeded, outcomes["slow-run"]);
            Assert.Equal(StepOutcome.Skipped, outcomes["after-build"]); // it needs `fails`
            Assert.Equal(StepOutcome.Skipped, outcomes["after-run"]);

            // The slow branch was still running when the first failure came, and was not cancelled.
            var events = env.PipelineEvents.Events.Where(e => e.RunId == started.RunId).ToList();
            var firstFailure = events.FindIndex(e => e.Type == EventTypes.NameOf<TestFailed>() && e.DataAs<TestFailed>().Step == "fails-run");
            var slowDone = events.FindIndex(e => e.Type == EventTypes.NameOf<TestSucceeded>() && e.DataAs<TestSucceeded>().Step == "slow-run");
            Assert.True(firstFailure >= 0 && slowDone > firstFailure, $"fails-run failed at {firstFailure}, slow-run succeeded at {slowDone}");
            Assert.DoesNotContain(events, e => e.Type == EventTypes.NameOf<BuildStarted>() && e.DataAs<BuildStarted>().Step == "after-build");
            // One run.finished (several services may emit it when branches end at once; it has one id, consumers keep one).
            Assert.Equal([end.Id], events.Where(e => e.Type == EventTypes.NameOf<RunFinished>()).Select(e => e.Id).Distinct().ToArray());

            // notify: one notify.requested per failed stage, with PipelineLib's subject.
            var notices = events.Where(e => e.Type == EventTypes.NameOf<NotifyRequested>()).DistinctBy(e => e.Id)
                .Select(e => e.DataAs<NotifyRequested>()).OrderBy(n => n.Stage).ToList();
            Assert.Equal(["breaks", "fails"], notices.Select(n => n.Stage));
            Assert.Equal($"[Pipeline] {env.Service} par/fails failed", notices[1].Subject);
            Assert.Equal(["team@example.org", "victim@elsewhere.test"], notices[1].To);
            // PipelineLib's default body links to the run's log: the reporter's page of this run.
            Assert.Equal($"Pipeline par for project {env.Project} failed during\nstage fails. See the log for details: {env.UrlOf("reporter")}/runs/{started.RunId}",
                notices[1].Body);
            Assert.Equal(("fails-run", "tests exited with code 3"), (notices[1].Step, notices[1].Reason));

            // The mail: one per notice, to the allowed recipient only, with the planned subject and body.
            var mails = (await smtp.WaitForAsync(2, TimeSpan.FromSeconds(60))).OrderBy(m => m.Message.Subject).ToList();
            Assert.Equal([$"[Pipeline] {env.Service} par/breaks failed", $"[Pipeline] {env.Service} par/fails failed"], mails.Select(m => m.Message.Subject));
            Assert.All(mails, m => Assert.Equal(["team@example.org"], m.EnvelopeTo));
            Assert.All(mails, m => Assert.Equal("team@example.org", m.Message.To.ToString()));
            Assert.All(mails, m => Assert.Equal("slipway@ci.example.org", m.Message.From.Mailboxes.Single().Address));
            Assert.Equal(notices[1].Body, mails[1].Message.TextBody?.ReplaceLineEndings("\n"));
            var failsNotice = events.First(e => e.Type == EventTypes.NameOf<NotifyRequested>() && e.DataAs<NotifyRequested>().Stage == "fails");
            Assert.Equal($"notify.{failsNotice.Id}@slipway", mails[1].Message.MessageId);

            var review = await ReviewAsync(env, pushed, "Pipeline par FAILURE");
            output.WriteLine(review.Message);
            // The comment names the failed steps in the order of its own step list (the order they started; which of the
            // two branches gets a test slot first varies), while run.finished's reason keeps plan order (above).
            var listed = new[] { "fails/fails-run", "breaks/breaks-run" }.OrderBy(s => review.Message!.IndexOf($"- {s} (test)", StringComparison.Ordinal)).ToList();
            Assert.Contains($"steps {listed[0]}, {listed[1]} failed", review.Message!.Split('\n')[0]);
            Assert.Contains("- fails/fails-run (test): failed", review.Message);
            Assert.Contains("- breaks/breaks-run (test): failed", review.Message);
            Assert.Contains("- slow/slow-run (test): succeeded", review.Message);
            Assert.Equal(-1, review.Labels["Verified"]);
            // Still two: a re-delivered notice (each may be emitted by more than one service) is not mailed again.
            Assert.Equal(2, smtp.Messages.Count);
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

    private static async Task<PostedReview> ReviewAsync(PipelineEnvironment env, PushedPatchSet pushed, string start)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(pushed.ChangeNumber).FirstOrDefault(r => r.Message?.StartsWith(start, StringComparison.Ordinal) == true) is { } review)
                return review;
            await Task.Delay(250);
        }
        throw new TimeoutException($"no review starting \"{start}\" on change {pushed.ChangeNumber} within 90 s");
    }
}
