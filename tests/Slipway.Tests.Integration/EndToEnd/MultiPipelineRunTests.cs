using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A multi-pipeline repository pushed with `git push` to the stand-in and run by the six services (issue 11): each
/// pipeline of config.yaml runs on its own, so a pipeline with a misspelt key fails alone with the reason in Gerrit
/// (no "step 1 of 0", no "step ?"); a Blubber variant Blubber refuses fails only the build that uses it, once the
/// other (parallel) stage of the same pipeline has built and run; a pipeline with `directory:` builds its sub-directory context
/// with the Blubber file from the repository's .pipeline/, and `build.excludes` keeps a file out of the image; an inline
/// `blubberfile` object builds and runs.
/// </summary>
public sealed class MultiPipelineRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    private const string Config = """
        pipelines:
          unit:
            blubberfile: blubber.yaml
            stages:
              - name: test
              - name: broken
            execution:
              - [test]
              - [broken]
          typo:
            blubberfile: blubber.yaml
            stages:
              - name: test
                bulid: test
          inline:
            blubberfile:
              version: v4
              base: BASE_IMAGE
              variants:
                hello:
                  entrypoint: [/bin/sh, -c, 'test "$0" = inline', '${setup.pipeline}']
            stages:
              - name: hello
          sub:
            blubberfile: blubber.yaml
            directory: svc
            stages:
              - name: lint
                build:
                  variant: lint
                  excludes: [excluded.txt]
                run: {env: {LOG_URL: '${setup.logURL}'}}
        """;

    private static IReadOnlyDictionary<string, string?> Files(string baseImage)
    {
        var files = SampleProject.Files(baseImage).ToDictionary();
        files[".pipeline/blubber.yaml"] += """

              broken:
                runs:
                  environment:
                    1BAD: x
              lint:
                copies: [local]
                entrypoint: [python3, -c, "import os; assert os.path.exists('marker.txt'), 'no marker'; assert not os.path.exists('excluded.txt'), 'excluded'; assert not os.path.exists('server.py'), 'not the sub-directory'"]
            """;
        files[".pipeline/config.yaml"] = Config.Replace("BASE_IMAGE", baseImage);
        files["svc/marker.txt"] = "the sub-directory's context\n";
        files["svc/excluded.txt"] = "kept out by build.excludes\n";
        return files;
    }

    [Fact]
    public async Task Each_pipeline_runs_on_its_own_and_a_refused_variant_fails_only_its_build()
    {
        await using var env = await PipelineEnvironment.StartAsync("multi");
        var source = Directory.CreateTempSubdirectory("slipway-multi-").FullName;
        try
        {
            GerritPush.WriteFiles(source, Files(env.BaseImage));
            var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, "Three pipelines");

            var typo = await FinishedAsync(env, pushed, "typo");
            Assert.Equal(RunOutcome.Failed, typo.Outcome);
            Assert.Contains("unknown key `bulid`", typo.Reason);

            var sub = await FinishedAsync(env, pushed, "sub");
            Assert.Equal(RunOutcome.Succeeded, sub.Outcome);
            // `${setup.logURL}` is the reporter's page of the pipeline's own run: `sub` is not the first pipeline, so its
            // run (the run.started the builder emitted) is not the trigger's.
            var subStarted = env.PipelineEvents.Events.First(e => e.Type == EventTypes.NameOf<RunStarted>() && IsRunOf(e, pushed, "sub"));
            var lintRun = subStarted.DataAs<RunStarted>().Plan.Stages.SelectMany(s => s.Steps).Single(s => s.Name == "lint-run");
            Assert.Equal($"{env.UrlOf("reporter")}/runs/{subStarted.RunId}", lintRun.Run!.Env!["LOG_URL"]);
            Assert.NotEqual(RunIdOf(env, pushed, "unit"), subStarted.RunId);

            var inline = await FinishedAsync(env, pushed, "inline"); // built from the inline blubberfile, its entry point interpolated
            Assert.True(inline.Outcome == RunOutcome.Succeeded, inline.Reason);

            var unit = await FinishedAsync(env, pushed, "unit");
            Assert.Equal(RunOutcome.Failed, unit.Outcome);
            var unitRun = RunIdOf(env, pushed, "unit");
            var events = env.PipelineEvents.Events.Where(e => e.RunId == unitRun).ToList();
            // The other branch ran to its end first (as Jenkins' parallel does), then the refused build failed the run.
            var tested = events.FindIndex(e => e.Type == EventTypes.NameOf<TestSucceeded>() && e.DataAs<TestSucceeded>().Step == "test-run");
            var failed = events.FindIndex(e => e.Type == EventTypes.NameOf<BuildFailed>());
            Assert.True(tested >= 0, "test-run did not succeed");
            Assert.True(failed > tested, "broken-build failed before the other branch finished");
            var broken = events[failed].DataAs<BuildFailed>();
            Assert.Equal("broken-build", broken.Step);
            Assert.Contains("contains invalid environment variable names", broken.Reason);

            var typoReview = await ReviewAsync(env, pushed, "Pipeline typo FAILURE");
            output.WriteLine(typoReview.Message);
            Assert.Equal(-1, typoReview.Labels["Verified"]);
            // The refusal quotes the config, so Gerrit gets it as one code span (its `[0]` and backticks are no Markdown).
            Assert.Contains("refused before its first step: ``.pipeline/config.yaml: line 14: pipelines.typo.stages[0]: unknown key `bulid`", typoReview.Message);
            var unitReview = await ReviewAsync(env, pushed, "Pipeline unit FAILURE");
            output.WriteLine(unitReview.Message);
            Assert.Contains("step broken/broken-build failed", unitReview.Message);
            Assert.Contains("contains invalid environment variable names", unitReview.Message);
            foreach (var review in env.Gerrit.Gerrit.Reviews(pushed.ChangeNumber))
            {
                Assert.DoesNotContain("of 0", review.Message);
                Assert.DoesNotContain("step ?", review.Message);
            }
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

    private static string RunIdOf(PipelineEnvironment env, PushedPatchSet pushed, string pipeline) => PushedPipelineRuns.RunIdOf(env, pushed, pipeline);

    private static bool IsRunOf(EventEnvelope e, PushedPatchSet pushed, string pipeline) => PushedPipelineRuns.IsRunOf(e, pushed, pipeline);

    private static Task<RunFinished> FinishedAsync(PipelineEnvironment env, PushedPatchSet pushed, string pipeline) =>
        PushedPipelineRuns.FinishedAsync(env, pushed, pipeline, Timeout);

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
