using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A change carried from patch set to production by the six services as separate processes (real sshd and
/// git in the stand-in, Kafka protocol, Postgres, Docker engine, registry). One class, so the long scenarios
/// run one after the other and don't compete for the 2 cores.
/// </summary>
public sealed class PipelineEndToEndTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_change_goes_from_patch_set_to_production_with_every_event_in_order()
    {
        await using var env = await PipelineEnvironment.StartAsync("e2e");
        try
        {
            await CarryChangeToProductionAsync(env, chaos: null);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    [Fact]
    public async Task A_service_killed_at_a_random_moment_and_restarted_loses_nothing_and_repeats_nothing()
    {
        await using var env = await PipelineEnvironment.StartAsync("chaos");
        // Random victim and moment; SLIPWAY_CHAOS_SEED replays a failed run (the seed is printed).
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SLIPWAY_CHAOS_SEED"), out var s) ? s : Random.Shared.Next();
        var random = new Random(seed);
        var victim = PipelineEnvironment.Services[random.Next(PipelineEnvironment.Services.Length)].Name;
        var delay = TimeSpan.FromSeconds(random.Next(2, 60));
        output.WriteLine($"seed {seed}: will kill -9 {victim} after {delay.TotalSeconds} s");
        try
        {
            await CarryChangeToProductionAsync(env, chaos: async () =>
            {
                await Task.Delay(delay);
                await env.KillAndRestartAsync(victim);
                output.WriteLine($"killed and restarted {victim}");
            });
        }
        catch
        {
            output.WriteLine($"seed {seed}: killed {victim} after {delay.TotalSeconds} s");
            output.WriteLine(env.Output);
            throw;
        }
    }

    private async Task CarryChangeToProductionAsync(PipelineEnvironment env, Func<Task>? chaos)
    {
        var gerrit = env.Gerrit.Gerrit;
        var chaosTask = chaos?.Invoke() ?? Task.CompletedTask;

        // A patch set: built, tested, built for production, smoke-tested; voted on in Gerrit.
        var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
        var patchRun = await WaitForRunAsync(env, r => r.Trigger.Kind == TriggerKind.Patchset && r.Trigger.Change == upload.ChangeNumber);
        var patchEvents = await WaitForRunEndAsync(env, patchRun);
        Assert.Equal(
        [
            "run.started", "build.started:build-test", "build.succeeded:build-test", "test.started:run-test", "test.succeeded:run-test",
            "build.started:build-production", "build.succeeded:build-production", "smoke-test.started:smoke", "smoke-test.succeeded:smoke",
            "run.finished",
        ], Outline(patchEvents, withRetries: chaos is not null));
        var patchFinished = patchEvents[^1].DataAs<RunFinished>();
        Assert.Equal(RunOutcome.Succeeded, patchFinished.Outcome);
        Assert.Equal(["build-test", "run-test", "build-production", "smoke"], patchFinished.Steps.Select(s => s.Name));
        Assert.All(patchFinished.Steps, s => Assert.Equal(StepOutcome.Succeeded, s.Outcome));
        var smoke = patchEvents.Single(e => e.Type == EventTypes.NameOf<SmokeTestSucceeded>()).DataAs<SmokeTestSucceeded>();
        Assert.Equal(0, smoke.ChecksFailed);
        Assert.Contains(smoke.Checks!, c => c.Name.Contains("/hello/{name}") && c.Passed);

        // A merge: published, deployed to staging, approved, rolled out to production in stages.
        await gerrit.MergeAsync(upload.ChangeNumber);
        var mergeRun = await WaitForRunAsync(env, r => r.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate && r.Trigger.Project == env.Project);
        await WaitForAsync(env, "the production approval request", e => e.RunId == mergeRun && e.Type == EventTypes.NameOf<ApprovalRequested>());
        if (chaos is null)
        {
            // Someone who is not an approver: refused and reported. A wrong token: 401. Then the approver, in Gerrit.
            await gerrit.CommentAsync(upload.ChangeNumber, "approve production");
            var refused = (await WaitForAsync(env, "the refusal", e => e.RunId == mergeRun && e.Type == EventTypes.NameOf<ApprovalRefused>()))
                .DataAs<ApprovalRefused>();
            Assert.Equal((gerrit.Developer.Username, ApprovalChannel.GerritComment), (refused.Approver.Username, refused.Via));
            using (var client = new HttpClient())
            using (var request = new HttpRequestMessage(HttpMethod.Post, env.UrlOf("deployer") + $"/api/runs/{mergeRun}/approve?environment=production"))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token-" + env.Token);
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
            }
            var approver = gerrit.AddAccount("Release Manager", "rm@example.org", env.Approver);
            await gerrit.CommentAsync(upload.ChangeNumber, "approve production", approver);
        }
        else
        {
            await ApproveAsync(env, mergeRun);
        }
        var mergeEvents = await WaitForRunEndAsync(env, mergeRun);
        await chaosTask;
        Assert.Equal(
        [
            "run.started", "build.started:build-test", "build.succeeded:build-test", "test.started:run-test", "test.succeeded:run-test",
            "build.started:build-production", "build.succeeded:build-production", "smoke-test.started:smoke", "smoke-test.succeeded:smoke",
            "publish.started:publish", "publish.succeeded:publish",
            "deploy.started:deploy-staging", "deploy.succeeded:deploy-staging",
            "approval.requested", .. (chaos is null ? new[] { "approval.refused" } : []), "approval.granted",
            "deploy.started:deploy-production", "deploy.succeeded:deploy-production", "deploy.started:deploy-production",
            "deploy.succeeded:deploy-production", "deploy.started:deploy-production", "deploy.succeeded:deploy-production",
            "run.finished",
        ], Outline(mergeEvents, withRetries: chaos is not null));
        if (chaos is null)
        {
            // The merge run builds the tree the patch set run built: both its builds are the patch set run's images,
            // reused, not rebuilt (a killed builder may come back with other build inputs, e.g. its proxy's port).
            List<BuildSucceeded> Builds(IEnumerable<EventEnvelope> events) => events.Where(e => e.Type == EventTypes.NameOf<BuildSucceeded>())
                .Select(e => e.DataAs<BuildSucceeded>()).ToList();
            var patchImages = Builds(patchEvents).ToDictionary(b => b.Step, b => b.ImageId);
            Assert.All(Builds(patchEvents), b => Assert.Null(b.ReusedFromRun));
            // The production image was built while the test image ran (built ahead), and its step took that build.
            Assert.Contains($"run {patchRun}: built step build-production ahead: sha256:", env["builder"].Output);
            Assert.Equal(patchImages.OrderBy(p => p.Key).Select(p => (p.Key, p.Value, (string?)patchRun)),
                Builds(mergeEvents).OrderBy(b => b.Step).Select(b => (b.Step, b.ImageId, b.ReusedFromRun)));
        }
        var rollout = mergeEvents.Where(e => e.Type == EventTypes.NameOf<DeploySucceeded>()).Select(e => e.DataAs<DeploySucceeded>())
            .Where(d => d.Environment == "production").Select(d => (d.RolloutStage, d.Percentage)).Distinct().ToList();
        Assert.Equal([(RolloutStage.Canary, 10), (RolloutStage.Partial, 50), (RolloutStage.Full, 100)], rollout);
        var finished = mergeEvents[^1].DataAs<RunFinished>();
        Assert.Equal(RunOutcome.Succeeded, finished.Outcome);
        var image = finished.Image!;
        var published = mergeEvents.First(e => e.Type == EventTypes.NameOf<PublishSucceeded>()).DataAs<PublishSucceeded>().Image;
        Assert.Equal(published, image with { Tags = published.Tags });
        Assert.Equal(published.Tags, image.Tags);
        Assert.Equal(2, image.Tags.Count);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}-\d{6}-production$", image.Tags[0]);
        var mergeStarted = mergeEvents[0].DataAs<RunStarted>();
        Assert.Equal(mergeStarted.Trigger.Revision, image.Tags[1]);
        Assert.DoesNotContain("latest", image.Tags);

        // The registry has both tags at the published digest.
        foreach (var tag in image.Tags) Assert.Equal(image.Digest, await ManifestDigestAsync(image.Uri, tag));

        // The configuration registry: one commit per environment, naming the run; the git log is the audit trail.
        Assert.Single(env.ConfigLog("staging"), c => c.Contains($"Slipway-Run: {mergeRun}"));
        Assert.Single(env.ConfigLog("production"), c => c.Contains($"Slipway-Run: {mergeRun}"));
        Assert.Single(env.ConfigLog("staging"));
        Assert.Single(env.ConfigLog("production"));
        var values = PipelineEnvironment.Git(env.ConfigRepository, "show", $"HEAD:environments/production/{env.Service}.yaml");
        Assert.Contains($"{image.Uri}@{image.Digest}", values);

        // The containers: one in staging, two in production, all answering on 127.0.0.1.
        Assert.Equal([$"slipway-staging-{env.Service}-0"], await env.DeployedContainersAsync("staging"));
        Assert.Equal([$"slipway-production-{env.Service}-0", $"slipway-production-{env.Service}-1"], await env.DeployedContainersAsync("production"));
        using var status = JsonDocument.Parse(await DeployerAsync(env, HttpMethod.Get, $"/api/services/{env.Service}?environment=production"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var instance in status.RootElement.GetProperty("instances").EnumerateArray())
        {
            var endpoint = instance.GetProperty("endpoint").GetString()!;
            Assert.StartsWith("http://127.0.0.1:", endpoint);
            Assert.Equal("Hello, world!", (await http.GetFromJsonAsync<JsonElement>(endpoint + "/hello/world")).GetProperty("greeting").GetString());
        }

        // Gerrit: one start and one final comment per run; the patch set run voted Verified +1.
        var reviews = await WaitForReviewsAsync(env, upload.ChangeNumber, 4);
        Assert.Equal(4, reviews.Count);
        Assert.Single(reviews, r => r.Labels.GetValueOrDefault("Verified") == 1 && r.PatchSet == upload.PatchSet);
        foreach (var run in new[] { patchRun, mergeRun })
        {
            var ofRun = reviews.Where(r => r.Message!.Contains($"/runs/{run}")).ToList();
            Assert.Equal(2, ofRun.Count);
            Assert.Contains(" started: step 1 of ", ofRun[0].Message);
            Assert.Contains(" SUCCESS", ofRun[1].Message);
        }
        var final = reviews[reviews.Count - 1];
        Assert.Contains(image.Uri, final.Message);
        Assert.All(image.Tags, t => Assert.Contains(t, final.Message));
        Assert.All(reviews, r => Assert.StartsWith("autogenerated:", r.Tag));
        var granted = mergeEvents.Single(e => e.Type == EventTypes.NameOf<ApprovalGranted>()).DataAs<ApprovalGranted>();
        Assert.Equal(chaos is null ? ApprovalChannel.GerritComment : ApprovalChannel.Cli, granted.Via);
        Assert.Equal(env.Approver, granted.Approver.Username);

        if (chaos is null) await ReleaseAgainAndRollBackByHandAsync(env, image);
    }

    /// <summary>A second change reaches production; `slipway rollback` (the deployer's API) puts the first image back.</summary>
    private static async Task ReleaseAgainAndRollBackByHandAsync(PipelineEnvironment env, ContainerImage first)
    {
        var gerrit = env.Gerrit.Gerrit;
        var files = SampleProject.Files(env.BaseImage).ToDictionary();
        files["CHANGELOG"] = "2.0: the second release\n";
        var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", files, "Second release");
        await WaitForRunEndAsync(env, await WaitForRunAsync(env, r => r.Trigger.Kind == TriggerKind.Patchset && r.Trigger.Change == upload.ChangeNumber));
        await gerrit.MergeAsync(upload.ChangeNumber);
        var run = await WaitForRunAsync(env, r => r.Trigger.Kind == TriggerKind.Merge && r.Trigger.Change == upload.ChangeNumber);
        await WaitForAsync(env, "the second approval request", e => e.RunId == run && e.Type == EventTypes.NameOf<ApprovalRequested>());
        await ApproveAsync(env, run);
        var second = (await WaitForRunEndAsync(env, run))[^1].DataAs<RunFinished>().Image!;
        Assert.NotEqual(first.Digest, second.Digest);

        using var done = JsonDocument.Parse(await DeployerAsync(env, HttpMethod.Post, $"/api/services/{env.Service}/rollback?environment=production"));
        Assert.Equal($"{second.Uri}@{second.Digest}", done.RootElement.GetProperty("from").GetString());
        Assert.Equal($"{first.Uri}@{first.Digest}", done.RootElement.GetProperty("to").GetString());
        var rollback = (await WaitForAsync(env, "the manual rollback event", e => e.Type == EventTypes.NameOf<RollbackPerformed>()))
            .DataAs<RollbackPerformed>();
        Assert.Equal((RollbackReason.Manual, second.Digest, first.Digest, env.Approver),
            (rollback.Reason, rollback.FromDigest, rollback.ToDigest, rollback.By?.Username));
        var log = env.ConfigLog("production");
        Assert.Equal(3, log.Length); // first release, second release, the revert (newest first)
        Assert.Contains("This reverts commit", log[0]);
        Assert.Contains($"{first.Uri}@{first.Digest}",
            PipelineEnvironment.Git(env.ConfigRepository, "show", $"HEAD:environments/production/{env.Service}.yaml"));
        using var status = JsonDocument.Parse(await DeployerAsync(env, HttpMethod.Get, $"/api/services/{env.Service}?environment=production"));
        Assert.All(status.RootElement.GetProperty("instances").EnumerateArray(),
            i => Assert.Equal($"{first.Uri}@{first.Digest}", i.GetProperty("image").GetString()));
    }

    private static List<string> Outline(IReadOnlyList<EventEnvelope> events, bool withRetries)
    {
        // After a crash a step may run again (a new attempt): only its last attempt's events count, each once.
        var distinct = events.DistinctBy(e => e.Id).ToList();
        if (withRetries)
            distinct = distinct.Where(e => !(StepOf(e) is { } step && e.Data.TryGetProperty("attempt", out var a)
                && distinct.Any(o => StepOf(o) == step && o.Type == e.Type && o.Data.TryGetProperty("attempt", out var b) && b.GetInt32() > a.GetInt32())))
                .ToList();
        return distinct.Select(e =>
        {
            var type = e.Type["slipway.".Length..^".v1".Length];
            return StepOf(e) is { } step && !type.StartsWith("approval") ? $"{type}:{step}" : type;
        }).ToList();
    }

    private static string? StepOf(EventEnvelope e) =>
        e.Data.ValueKind == JsonValueKind.Object && e.Data.TryGetProperty("step", out var s) ? s.GetString() : null;

    private static async Task<string> WaitForRunAsync(PipelineEnvironment env, Func<RunStarted, bool> match) =>
        (await WaitForAsync(env, "a run starting", e => e.Type == EventTypes.NameOf<RunStarted>() && match(e.DataAs<RunStarted>()))).RunId!;

    private static async Task<IReadOnlyList<EventEnvelope>> WaitForRunEndAsync(PipelineEnvironment env, string runId)
    {
        await WaitForAsync(env, $"run {runId} finishing", e => e.RunId == runId && e.Type == EventTypes.NameOf<RunFinished>());
        return env.PipelineEvents.Events.Where(e => e.RunId == runId).ToList();
    }

    private static Task<EventEnvelope> WaitForAsync(PipelineEnvironment env, string what, Func<EventEnvelope, bool> match) =>
        env.PipelineEvents.WaitForAsync(what, match, RunTimeout);

    private static async Task ApproveAsync(PipelineEnvironment env, string runId) =>
        await DeployerAsync(env, HttpMethod.Post, $"/api/runs/{runId}/approve?environment=production");

    private static async Task<string> DeployerAsync(PipelineEnvironment env, HttpMethod method, string path)
    {
        // The deployer may be restarting (chaos test): retry until it answers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                // A rollback answers once its rollout is done (containers started and healthy): minutes on a loaded engine.
                using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
                using var request = new HttpRequestMessage(method, env.UrlOf("deployer") + path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", env.Token);
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode) return body;
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {body}");
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            await Task.Delay(500);
        }
    }

    private static async Task<string?> ManifestDigestAsync(string uri, string tag)
    {
        var slash = uri.IndexOf('/');
        using var http = new HttpClient();
        var user = Environment.GetEnvironmentVariable("Registry__Username")!;
        var password = Environment.GetEnvironmentVariable("Registry__Password")!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{uri[..slash]}/v2/{uri[(slash + 1)..]}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
    }

    private static async Task<IReadOnlyList<Slipway.GerritStandIn.PostedReview>> WaitForReviewsAsync(PipelineEnvironment env, int change, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (env.Gerrit.Gerrit.Reviews(change).Count < count && DateTime.UtcNow < deadline) await Task.Delay(250);
        await Task.Delay(2000); // and nothing more arrives
        return env.Gerrit.Gerrit.Reviews(change);
    }
}
