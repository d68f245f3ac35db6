using System.Text.Json.Nodes;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Tester;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// The attack played end to end: a patch set whose service spec aims a smoke check at another host (a listener
/// on 127.0.0.2). The run fails at the smoke step, Gerrit gets Verified -1 with the reason, the listener sees nothing.
/// </summary>
public sealed class SmokeEscapeRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_spec_path_aimed_at_another_host_fails_the_smoke_step_and_gerrit_gets_the_reason()
    {
        await using var listener = new ForeignListener();
        await using var env = await PipelineEnvironment.StartAsync("escape");
        try
        {
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            var spec = JsonNode.Parse(files["spec.json"]!)!.AsObject();
            spec["paths"]!.AsObject()[$"@{listener.Target}/stolen"] = new JsonObject { ["get"] = new JsonObject() };
            files["spec.json"] = spec.ToJsonString();

            var upload = await env.Gerrit.Gerrit.UploadPatchsetAsync(env.Project, "master", files, "Aim a smoke check elsewhere");
            var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout);
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end",
                e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();

            var refusal = $"refused '@{listener.Target}/stolen': the path must start with '/' (a relative path on the service, no scheme or host)";
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Equal(("production", "smoke"), (finished.FailedStage, finished.FailedStep));
            Assert.Equal($"smoke failed: GET @{listener.Target}/stolen failed: {refusal}", finished.Reason);
            var smoke = env.PipelineEvents.Events.Single(e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<SmokeTestFailed>()).DataAs<SmokeTestFailed>();
            Assert.Contains(smoke.Checks!, c => c.Name == "GET /hello/{name}: greets by name" && c.Passed);

            var review = await WaitForReviewAsync(env, upload.ChangeNumber, r => r.Labels.ContainsKey("Verified"));
            Assert.Equal(-1, review.Labels["Verified"]);
            // Gerrit gets the reason with its `@` made inert (U+FF20): uploader text never mentions an account.
            Assert.Contains(refusal.Replace('@', '\uFF20'), review.Message);

            Assert.Empty(listener.Seen);
            await listener.ProveAliveAsync();
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
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(change).FirstOrDefault(match) is { } review) return review;
            await Task.Delay(250);
        }
        throw new TimeoutException("no such review within 60 s");
    }
}
