using System.Net.Http.Json;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// The environments page in a real browser against the six services: a merged change waits for production on the
/// page; a wrong token is refused with a clear message and changes nothing; the approver's token approves from the
/// page and production rolls out (its containers run, the configuration registry holds the image); the page shows
/// it approved by the approver; the token is in no service's output.
/// </summary>
public sealed class EnvironmentsPageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task An_approval_from_the_environments_page_rolls_production_out()
    {
        await using var env = await PipelineEnvironment.StartAsync("envpage",
            new Dictionary<string, string?> { ["Builder__Triggers__Default__Patchsets"] = "false" });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
            await gerrit.MergeAsync(upload.ChangeNumber);
            var requested = await env.PipelineEvents.WaitForAsync("production's approval request",
                e => e.Type == EventTypes.NameOf<ApprovalRequested>() && e.DataAs<ApprovalRequested>().Environment == "production", Timeout);
            var run = requested.RunId!;
            Assert.Empty(await env.DeployedContainersAsync("production"));

            await using var browser = DashboardBrowser.StartScript("environments.js", "environments",
                new Dictionary<string, string> { ["SLIPWAY_TOKEN"] = env.Token }, env.UrlOf("reporter"), run, env.Service);
            var seen = await browser.SeenAsync();

            // A wrong token: the deployer's 401, said plainly, and nothing approved.
            Assert.Equal(401, seen.GetProperty("wrongToken").GetProperty("status").GetInt32());
            Assert.Equal("The deployer does not know this token: missing or unknown API token (Authorization: Bearer <token>)",
                seen.GetProperty("wrongToken").GetProperty("message").GetString());
            Assert.Equal(200, seen.GetProperty("approve").GetProperty("status").GetInt32());
            Assert.Equal($"approved by {env.Approver}: the rollout starts now", seen.GetProperty("approve").GetProperty("message").GetString());

            // The effect: production runs the run's image, and the configuration registry records it.
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end",
                e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Succeeded, finished.Outcome);
            var granted = Assert.Single(env.PipelineEvents.Events.Where(e => e.RunId == run).DistinctBy(e => e.Id),
                e => e.Type == EventTypes.NameOf<ApprovalGranted>()).DataAs<ApprovalGranted>();
            Assert.Equal((env.Approver, ApprovalChannel.Cli), (granted.Approver.Username, granted.Via));
            var digest = finished.Image!.Digest;
            Assert.Equal([$"slipway-production-{env.Service}-0", $"slipway-production-{env.Service}-1"], await env.DeployedContainersAsync("production"));
            Assert.Single(env.ConfigLog("production"));
            Assert.Contains(digest, PipelineEnvironment.Git(env.ConfigRepository, "show", $"HEAD:environments/production/{env.Service}.yaml"));

            // The page saw it: production runs this run's image, approved by the approver; nothing waits any more.
            Assert.Equal(env.Approver, seen.GetProperty("productionApprovedBy").GetString());
            Assert.Contains(digest, seen.GetProperty("productionImage").GetString());
            Assert.Equal(0, seen.GetProperty("stillWaiting").GetInt32());
            Assert.Contains(env.Approver, seen.GetProperty("noJsProduction").GetString());
            // Rolling back with nothing earlier: the deployer's 409 and its reason, nothing changed.
            Assert.Equal(409, seen.GetProperty("rollback").GetProperty("status").GetInt32());
            Assert.Equal($"{env.Service} in production has no earlier version to roll back to", seen.GetProperty("rollback").GetProperty("message").GetString());
            Assert.Single(env.ConfigLog("production"));
            Assert.False(seen.GetProperty("phoneOverflow").GetBoolean(), "the environments page is wider than a phone");

            // The run page: the plan's graph, stage by stage with its dependencies; the published image; the approval; the trace.
            var started = env.PipelineEvents.Events.First(e => e.RunId == run && e.Type == EventTypes.NameOf<RunStarted>());
            var graph = started.DataAs<RunStarted>().Plan.Graph;
            Assert.Equal(graph.Select(n => n.Stage).Order(), seen.GetProperty("graphStages").EnumerateArray().Select(x => x.GetString()!).Order());
            Assert.Equal(graph.SelectMany(n => n.DependsOn.Select(d => $"{d}>{n.Stage}")).Order(),
                seen.GetProperty("graphEdges").EnumerateArray().Select(x => x.GetString()!).Order());
            Assert.Contains(seen.GetProperty("images").EnumerateArray(), i => i.GetString()!.StartsWith("published", StringComparison.Ordinal)
                && i.GetString()!.Contains(finished.Image.Uri) && i.GetString()!.Contains(digest) && finished.Image.Tags.All(t => i.GetString()!.Contains(t)));
            var approval = Assert.Single(seen.GetProperty("approvals").EnumerateArray()).GetString()!;
            Assert.StartsWith($"production ({env.Service}) granted by {env.Approver} via api", approval);
            Assert.Equal(System.Diagnostics.ActivityContext.Parse(started.TraceParent!, null).TraceId.ToString(), seen.GetProperty("traceId").GetString());
            foreach (var shot in new[] { "environments-waiting.png", "environments.png", "environments-phone.png", "run-graph.png" })
                Assert.True(new FileInfo(Path.Combine(browser.ScreenshotDir, shot)).Length > 1000, $"screenshot {shot} is missing");

            // The same by JSON.
            using var http = new HttpClient();
            var json = await http.GetFromJsonAsync<JsonElement>(env.UrlOf("reporter") + "/api/environments");
            var production = json.GetProperty("services").EnumerateArray()
                .Single(s => s.GetProperty("environment").GetString() == "production" && s.GetProperty("service").GetString() == env.Service);
            var current = production.GetProperty("history")[0];
            Assert.Equal((run, env.Approver, digest), (current.GetProperty("runId").GetString(), current.GetProperty("approvedBy").GetString(),
                current.GetProperty("image").GetProperty("digest").GetString()));
            Assert.Empty(json.GetProperty("waiting").EnumerateArray());

            // The token was typed into the page: no service wrote it anywhere.
            foreach (var (name, _, _) in PipelineEnvironment.Services)
                Assert.DoesNotContain(env.Token, env[name].Output);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }
}
