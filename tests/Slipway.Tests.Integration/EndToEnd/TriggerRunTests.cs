using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Slipway.Contracts;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's <c>trigger</c> after a merge: the publisher POSTs the request to the operator's webhook for the job
/// (a listener of the test's on 127.0.0.1) and emits <c>trigger.requested</c> with the job and its parameters; a job the
/// operator does not allow for the project fails its step with PipelineLib's message.
/// </summary>
public sealed class TriggerRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    private const string Config = """
        pipelines:
          docs:
            stages:
              - name: announce
                trigger:
                  name: docs-job
                  parameters:
                    REVISION: '${setup.commit}'
                    WHO: '${setup.projectShortName}'
          other:
            stages:
              - name: sneaky
                trigger: {name: not-mine}
        """;

    [Fact]
    public async Task A_merge_run_requests_the_job_by_webhook_and_event_and_a_job_not_allowed_fails()
    {
        var port = Slipway.Embedded.FreePort.Next();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentQueue<(string Method, string Path, string Body)>();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening) { return; }
                using (var reader = new StreamReader(context.Request.InputStream)) 
                    received.Enqueue((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, await reader.ReadToEndAsync()));
                context.Response.StatusCode = 202;
                context.Response.Close();
            }
        });

        await using var env = await PipelineEnvironment.StartAsync("trig", new Dictionary<string, string?>
        {
            ["Pipeline__Triggers__docs-job__Url"] = $"http://127.0.0.1:{port}/hooks/docs",
            ["Pipeline__Triggers__not-mine__Projects__0"] = "someone/else",
        }, project => new Dictionary<string, string?> { ["Pipeline__Triggers__docs-job__Projects__0"] = project });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master",
                new Dictionary<string, string?> { [".pipeline/config.yaml"] = Config }, "Trigger the docs job");
            var merged = await gerrit.MergeAsync(upload.ChangeNumber);

            var docs = await RunEventsAsync(env, merged, "docs");
            Assert.Equal(RunOutcome.Succeeded, docs[^1].DataAs<RunFinished>().Outcome);
            var requested = Assert.Single(docs, e => e.Type == "slipway.trigger.requested.v1").DataAs<TriggerRequested>();
            Assert.Equal("docs-job", requested.Job);
            Assert.Equal(new Dictionary<string, string> { ["REVISION"] = merged, ["WHO"] = env.Service }, requested.Parameters);
            Assert.Equal(202, requested.WebhookStatus);

            var call = Assert.Single(received);
            Assert.Equal(("POST", "/hooks/docs"), (call.Method, call.Path));
            using var body = JsonDocument.Parse(call.Body);
            Assert.Equal("slipway.trigger.requested.v1", body.RootElement.GetProperty("type").GetString());
            Assert.Equal("docs-job", body.RootElement.GetProperty("job").GetString());
            Assert.Equal(merged, body.RootElement.GetProperty("parameters").GetProperty("REVISION").GetString());
            Assert.Equal(env.Project, body.RootElement.GetProperty("project").GetString());
            Assert.Equal($"{docs[0].RunId}:announce-trigger", body.RootElement.GetProperty("requestId").GetString());

            var other = await RunEventsAsync(env, merged, "other");
            var finished = other[^1].DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Equal("sneaky-trigger failed: Invalid trigger job 'not-mine'. Allowed trigger jobs: [docs-job] " +
                "(the operator allows them per project: Pipeline:Triggers:<job>:Projects)", finished.Reason);
            Assert.Single(received); // nothing sent for the refused job
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

    private static async Task<List<EventEnvelope>> RunEventsAsync(PipelineEnvironment env, string revision, string pipeline)
    {
        var started = await env.PipelineEvents.WaitForAsync($"the {pipeline} run", e => e.Type == EventTypes.NameOf<RunStarted>()
            && e.DataAs<RunStarted>() is var r && r.Trigger.Revision == revision && r.Plan.Pipeline == pipeline, Timeout);
        await env.PipelineEvents.WaitForAsync($"the end of the {pipeline} run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
        return env.PipelineEvents.Events.Where(e => e.RunId == started.RunId).ToList();
    }
}
