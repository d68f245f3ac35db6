using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's runtime outputs through the real services after a merge: a run step's <c>${lint.output}</c> (its last
/// <c>tail</c> lines) reaches a later stage's <c>run.env</c>, the publisher's <c>${ship.imageTag}</c> a later
/// <c>run.arguments</c>, and both, with <c>${ship.publishedImage}</c> and <c>${lint.imageID}</c>, the trigger parameters
/// POSTed to a webhook on 127.0.0.1; a <c>$each</c>/<c>$in</c> over the lint output becomes another step's arguments, one
/// over the lint image's id the published image's tags, and one over the lint output the patterns `square` builds without
/// (build.excludes). Publish names and tags hold runtime outputs too: `ship`'s primary tag, `square`'s image name and a
/// tag item, resolved by the publisher and found in the registry. The output holds <c>${setup.project}</c> literally: a resolved value is never
/// interpolated again.
/// </summary>
public sealed class RuntimeOutputRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    private const string Config = """
        pipelines:
          relay:
            blubberfile: blubber.yaml
            stages:
              - name: lint
                build: lint
                run: {tail: 1}
              - name: ship
                build: production
                publish:
                  image:
                    tag: 'v-${setup.commit}-${lint.imageID}'
                    tags:
                      $each: t
                      $in: 'img-${lint.imageID}|Latest'
                      $delimiter: '|'
                      $yield: '${.t}'
              - name: announce
                build: check
                run:
                  arguments: ['tag=${ship.imageTag}']
                  env: {LINT: '${lint.output}'}
                trigger:
                  name: deploy-job
                  parameters:
                    LINT: 'lint said: ${lint.output}'
                    TAG: '${ship.imageTag}'
                    IMAGE: '${ship.publishedImage}'
                    ID: '${lint.imageID}'
              - name: square
                publish:
                  image:
                    name: '${setup.projectShortName}-x${lint.imageID}'
                    tags: ['sq-${lint.imageID}', Kept]
                build:
                  variant: square
                  excludes:
                    $each: pattern
                    $in: '${lint.output}'
                    $delimiter: " \n"
                run:
                  arguments:
                    $each: word
                    $in: '${lint.output}'
                    $delimiter: " \n"
                    $yield: '<${.word}>'
            execution:
              - [lint, announce]
              - [ship, announce]
              - [lint, square]
              - [lint, ship]
        """;

    private static IReadOnlyDictionary<string, string?> Files(string baseImage)
    {
        var files = SampleProject.Files(baseImage).ToDictionary();
        files[".pipeline/blubber.yaml"] += """

              lint:
                entrypoint: [python3, -c, "print('first line'); print('lint ok $' + '{setup.project}')"]
              check:
                entrypoint: [python3, -c, "import os, sys; print(os.environ['LINT'], end=''); print('|' + sys.argv[1])"]
              square:
                copies: [local]
                entrypoint: [python3, -c, "import os, sys; print(','.join(sys.argv[1:]) + '|ok=' + str(os.path.exists('ok')) + ' keep=' + str(os.path.exists('keep.txt')))"]
            """;
        files[".pipeline/config.yaml"] = Config;
        // `square` builds without the files the lint output names (build.excludes over it): `ok` goes, `keep.txt` stays.
        files["ok"] = "excluded by the lint output\n";
        files["keep.txt"] = "kept\n";
        return files;
    }

    [Fact]
    public async Task Outputs_of_earlier_stages_arrive_resolved_in_a_later_run_step_and_trigger()
    {
        var port = Slipway.Embedded.FreePort.Next();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening) { return; }
                using (var reader = new StreamReader(context.Request.InputStream))
                    received.Enqueue(await reader.ReadToEndAsync());
                context.Response.StatusCode = 202;
                context.Response.Close();
            }
        });

        await using var env = await PipelineEnvironment.StartAsync("rtout", new Dictionary<string, string?>
        {
            ["Pipeline__Triggers__deploy-job__Url"] = $"http://127.0.0.1:{port}/hooks/deploy",
        }, project => new Dictionary<string, string?> { ["Pipeline__Triggers__deploy-job__Projects__0"] = project });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", Files(env.BaseImage), "Pass outputs between stages");
            var merged = await gerrit.MergeAsync(upload.ChangeNumber);

            var started = await env.PipelineEvents.WaitForAsync("the relay run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>() is var r && r.Trigger.Revision == merged && r.Plan.Pipeline == "relay", Timeout);
            var finished = (await env.PipelineEvents.WaitForAsync("the end of the relay run",
                e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.True(finished.Outcome == RunOutcome.Succeeded, finished.Reason);
            var runId = started.RunId!;

            var lintImage = Event<BuildSucceeded>(env, runId, "lint-build").ImageId;
            var lintHex = lintImage["sha256:".Length..];
            var tag = $"v-{merged}-{lintHex}"; // `publish.image.tag` over the lint image's id, resolved by the publisher
            var published = Event<PublishSucceeded>(env, runId, "ship-publish");
            Assert.Equal(tag, published.Tag);
            // `publish.image.tags` as `$each` over the lint image's id, expanded by the publisher; `latest` dropped.
            Assert.Equal([tag, "img-" + lintHex], published.Image.Tags.Where(t => t.StartsWith('v') || t.StartsWith("img-") || t == "latest"));
            Assert.Equal(["img-" + lintHex, tag], (await TestInfrastructure.RegistryTagsAsync(published.Name!)).Where(t => t.StartsWith('v') || t.StartsWith("img-") || t == "latest"));

            // `square`'s image name and a tag item over the lint image's id: resolved, sanitized, checked against the project.
            var square = Event<PublishSucceeded>(env, runId, "square-publish");
            Assert.Equal($"{env.Service}-x{lintHex}".ToLowerInvariant(), square.Name);
            Assert.Equal(["kept", "sq-" + lintHex], (await TestInfrastructure.RegistryTagsAsync(square.Name!)).Where(t => t is "kept" || t.StartsWith("sq-")));

            // The run step got the lint step's last line (and its final line break) in its environment, the tag as its argument.
            Assert.Equal("lint ok ${setup.project}\n|tag=" + tag, Event<TestSucceeded>(env, runId, "announce-run").OutputTail);

            // `$each`/`$in` over the lint output, expanded when the step ran (PipelineLib's test-list-comprehensions): one
            // argument per token, the resolved `${setup.project}` kept literally.
            Assert.Equal("<lint>,<ok>,<${setup.project}>|ok=False keep=True", Event<TestSucceeded>(env, runId, "square-run").OutputTail);

            var requested = Event<TriggerRequested>(env, runId, "announce-trigger");
            var expected = new Dictionary<string, string>
            {
                ["LINT"] = "lint said: lint ok ${setup.project}\n",
                ["TAG"] = tag,
                ["IMAGE"] = $"{published.Image.Uri}:{tag}",
                ["ID"] = lintImage["sha256:".Length..],
            };
            Assert.Equal(expected, requested.Parameters);
            using var body = JsonDocument.Parse(Assert.Single(received));
            Assert.Equal(expected, body.RootElement.GetProperty("parameters").Deserialize<Dictionary<string, string>>());

            // The plan shows the references as written: what was resolved is only in the performing step's events.
            var plan = started.DataAs<RunStarted>().Plan;
            Assert.Equal("${ship.imageTag}", plan.Stages.Single(s => s.Name == "announce").Steps.Single(s => s.Name == "announce-trigger").Trigger!.Parameters!["TAG"]);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await Task.WhenAny(serving, Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }

    private static T Event<T>(PipelineEnvironment env, string runId, string step) where T : StepEvent =>
        env.PipelineEvents.Events.Where(e => e.RunId == runId && e.Type == EventTypes.NameOf<T>()).Select(e => e.DataAs<T>()).Single(e => e.Step == step);
}
