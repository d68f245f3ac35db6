using System.Net;
using System.Net.Http.Headers;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Only approvers change production, and one approval is one rollout, through the six services as processes: an
/// account whose display name and email are the approver's username is refused; the approver's approval given early
/// (before the run asks), twice, and through both Gerrit and the API rolls production out exactly once.
/// </summary>
public sealed class ApprovalTrustTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_look_alike_is_refused_and_an_early_repeated_two_channel_approval_rolls_out_once()
    {
        // Merges only: the patch-set run would only compete for the CPU.
        await using var env = await PipelineEnvironment.StartAsync("approve",
            new Dictionary<string, string?> { ["Builder__Triggers__Default__Patchsets"] = "false" });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
            await gerrit.MergeAsync(upload.ChangeNumber);
            var run = (await env.PipelineEvents.WaitForAsync("the merge run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Kind == TriggerKind.Merge, Timeout)).RunId!;

            await Task.Delay(TimeSpan.FromSeconds(3)); // the deployer has read run.started too
            // Display name and email are whatever an account holder types: the approver's username there is nothing.
            var lookalike = gerrit.AddAccount(env.Approver, env.Approver, "mallory");
            await gerrit.CommentAsync(upload.ChangeNumber, "approve production", lookalike);
            var refused = (await env.PipelineEvents.WaitForAsync("the look-alike's refusal",
                e => e.RunId == run && e.Type == EventTypes.NameOf<ApprovalRefused>(), Timeout)).DataAs<ApprovalRefused>();
            Assert.Equal("mallory", refused.Approver.Username);

            // The approver, early (the run is still building), twice in Gerrit and once through the API.
            var approver = gerrit.AddAccount("Release Manager", "rm@example.org", env.Approver);
            await gerrit.CommentAsync(upload.ChangeNumber, "approve production", approver);
            var api = await ApproveAsync(env, run);
            await gerrit.CommentAsync(upload.ChangeNumber, "Thanks.\n\napprove production", approver);
            Assert.Contains(api, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound }); // OK when the API came first

            await env.PipelineEvents.WaitForAsync("the run's end", e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
            await Task.Delay(TimeSpan.FromSeconds(5)); // late duplicates would show now
            var events = env.PipelineEvents.Events.Where(e => e.RunId == run).DistinctBy(e => e.Id).ToList();
            Assert.Equal(RunOutcome.Succeeded, events.Single(e => e.Type == EventTypes.NameOf<RunFinished>()).DataAs<RunFinished>().Outcome);
            var granted = Assert.Single(events, e => e.Type == EventTypes.NameOf<ApprovalGranted>()).DataAs<ApprovalGranted>();
            Assert.Equal(env.Approver, granted.Approver.Username);
            var grantedAt = events.FindIndex(e => e.Type == EventTypes.NameOf<ApprovalGranted>());
            var firstProduction = events.FindIndex(e => e.Type == EventTypes.NameOf<DeployStarted>() && e.DataAs<DeployStarted>().Environment == "production");
            Assert.True(grantedAt < firstProduction, "production rolled out before the approval");

            // Effects, not just events: one production rollout, one stage each, one commit, one set of containers.
            var production = events.Where(e => e.Type == EventTypes.NameOf<DeploySucceeded>()).Select(e => e.DataAs<DeploySucceeded>())
                .Where(d => d.Environment == "production").Select(d => d.RolloutStage).ToList();
            Assert.Equal([RolloutStage.Canary, RolloutStage.Partial, RolloutStage.Full], production);
            Assert.Single(env.ConfigLog("production"));
            Assert.Equal([$"slipway-production-{env.Service}-0", $"slipway-production-{env.Service}-1"], await env.DeployedContainersAsync("production"));

            // After the rollout: approving again does nothing.
            Assert.Equal(HttpStatusCode.NotFound, await ApproveAsync(env, run));
            await gerrit.CommentAsync(upload.ChangeNumber, "approve production", approver);
            await Task.Delay(TimeSpan.FromSeconds(10));
            Assert.Single(env.PipelineEvents.Events.Where(e => e.RunId == run).DistinctBy(e => e.Id), e => e.Type == EventTypes.NameOf<ApprovalGranted>());
            Assert.Equal(3, env.PipelineEvents.Events.Where(e => e.RunId == run).DistinctBy(e => e.Id)
                .Count(e => e.Type == EventTypes.NameOf<DeploySucceeded>() && e.DataAs<DeploySucceeded>().Environment == "production"));
            Assert.Single(env.ConfigLog("production"));
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<HttpStatusCode> ApproveAsync(PipelineEnvironment env, string run)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, env.UrlOf("deployer") + $"/api/runs/{run}/approve?environment=production");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", env.Token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
