using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Issue 10, "only approvers change production", played end to end against the six services, the stand-in, the real
/// Docker engine, registry and configuration registry: each test pushes what an untrusted uploader could and asserts
/// the effects (commits, images, containers), not only the events.
/// </summary>
public sealed class ReleaseTrustTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);

    // A config.yaml that, once merged, publishes and promotes straight into production.
    private const string PromoteToProduction = """
        pipelines:
          release:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image: true
                promote:
                  - environments: [production]
        """;

    private static Dictionary<string, string?> Files(PipelineEnvironment env, string config, string release)
    {
        var files = SampleProject.Files(env.BaseImage).ToDictionary();
        files[".pipeline/config.yaml"] = config;
        files["CHANGELOG"] = release + "\n";
        // Promoted values keep the registry's default probes (/readyz, /healthz): the service answers them too.
        files["server.py"] = files["server.py"]!.Replace("self.path == \"/_info\"", "self.path in (\"/_info\", \"/readyz\", \"/healthz\")");
        return files;
    }

    [Fact]
    public async Task A_config_yaml_promote_to_production_waits_for_an_approver_then_writes_exactly_one_commit()
    {
        await using var env = await PipelineEnvironment.StartAsync("trust");
        try
        {
            var (run, image) = await ReleaseByPromoteAsync(env, "1.0", assertWaiting: true);
            var log = env.ConfigLog("production");
            Assert.Single(log);
            Assert.Contains($"Slipway-Run: {run}", log[0]);
            Assert.Contains($"{image.Uri}@{image.Digest}", ProductionValues(env));
            Assert.Empty(await env.DeployedContainersAsync()); // a promote records; it rolls nothing out
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    [Fact]
    public async Task Rollback_needs_an_approvers_token_walks_back_once_per_request_and_finishes_when_the_client_gives_up_or_the_deployer_is_killed()
    {
        var operatorToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        await using var env = await PipelineEnvironment.StartAsync("rollback",
            new Dictionary<string, string?> { [$"Deployer__ApiTokens__{operatorToken}"] = "operator" });
        try
        {
            var (_, first) = await ReleaseByPromoteAsync(env, "1.0", assertWaiting: false);
            var (_, second) = await ReleaseByPromoteAsync(env, "2.0", assertWaiting: false);
            var (_, third) = await ReleaseByPromoteAsync(env, "3.0", assertWaiting: false);
            var (_, fourth) = await ReleaseByPromoteAsync(env, "4.0", assertWaiting: false);
            Assert.Equal(4, new[] { first.Digest, second.Digest, third.Digest, fourth.Digest }.Distinct().Count());
            Assert.Equal(4, env.ConfigLog("production").Length);

            // The operators' token is not an approver's: 403, and nothing changed.
            var (status, body) = await DeployerAsync(env, HttpMethod.Post, $"/api/services/{env.Service}/rollback?environment=production", operatorToken);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("operator is not an approver", body);
            Assert.Equal(4, env.ConfigLog("production").Length);
            Assert.Contains($"{fourth.Uri}@{fourth.Digest}", ProductionValues(env));
            Assert.Empty(await env.DeployedContainersAsync());

            // A client that gives up a moment after asking: the rollback (fourth → third) still runs to its end, so the
            // registry and what runs agree, and it happens once.
            using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                    DeployerAsync(env, HttpMethod.Post, $"/api/services/{env.Service}/rollback?environment=production", env.Token, impatient.Token));
            await WaitForAsync(env, "the impatient client's rollback event",
                e => e.Type == EventTypes.NameOf<RollbackPerformed>() && e.DataAs<RollbackPerformed>().ToDigest == third.Digest);
            Assert.Equal(5, env.ConfigLog("production").Length);
            Assert.Contains($"{third.Uri}@{third.Digest}", ProductionValues(env));
            await AssertRunningAsync(env, third);

            // The next rollback, third → second in stages (production needs approval: canary, partial, full), asked with an
            // Idempotency-Key. The deployer is killed in the middle of it, once its registry commit is made; after the restart
            // its job finishes the rollback, and the same request asked again gets that rollback's answer: one commit, once.
            var rollback = $"/api/services/{env.Service}/rollback?environment=production";
            var key = "retry-" + Guid.NewGuid().ToString("N");
            var interrupted = DeployerAsync(env, HttpMethod.Post, rollback, env.Token, key: key);
            await WaitForCommitsAsync(env, 6);
            await env.KillAndRestartAsync("deployer");
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => interrupted); // killed before it could answer
            (status, body) = await DeployerAsync(env, HttpMethod.Post, rollback, env.Token, key: key);
            Assert.True(status == HttpStatusCode.OK, body);
            using (var done = JsonDocument.Parse(body))
            {
                Assert.Equal($"{third.Uri}@{third.Digest}", done.RootElement.GetProperty("from").GetString());
                Assert.Equal($"{second.Uri}@{second.Digest}", done.RootElement.GetProperty("to").GetString());
                Assert.Equal(["canary", "partial", "full"], done.RootElement.GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
            }
            Assert.Contains($"rollback request release-manager:{key} resumes its commit", env["deployer"].Output);
            Assert.Equal(6, env.ConfigLog("production").Length);
            Assert.Contains($"Slipway-Rollback-Request: release-manager:{key}", env.ConfigLog("production")[0]);
            Assert.Contains($"{second.Uri}@{second.Digest}", ProductionValues(env));
            await AssertRunningAsync(env, second);
            // Asked a third time: the same answer, nothing rolled back; read back by its id, by its asker only; the key with
            // other parameters is refused.
            var (againStatus, againBody) = await DeployerAsync(env, HttpMethod.Post, rollback, env.Token, key: key);
            Assert.Equal((HttpStatusCode.OK, body), (againStatus, againBody));
            var byId = $"/api/rollbacks/{Uri.EscapeDataString("release-manager:" + key)}";
            Assert.Equal((HttpStatusCode.OK, body), await DeployerAsync(env, HttpMethod.Get, byId, env.Token));
            Assert.Equal(HttpStatusCode.NotFound, (await DeployerAsync(env, HttpMethod.Get, byId, operatorToken)).Status);
            (status, body) = await DeployerAsync(env, HttpMethod.Post, rollback + "&allAtOnce=true", env.Token, key: key);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Contains("was used for another request", body);
            Assert.Equal(6, env.ConfigLog("production").Length);

            // Then all at once: second → first (not back to third, which was rolled back).
            (status, body) = await DeployerAsync(env, HttpMethod.Post,
                $"/api/services/{env.Service}/rollback?environment=production&allAtOnce=true", env.Token);
            Assert.True(status == HttpStatusCode.OK, body);
            using (var done = JsonDocument.Parse(body))
            {
                Assert.Equal($"{second.Uri}@{second.Digest}", done.RootElement.GetProperty("from").GetString());
                Assert.Equal($"{first.Uri}@{first.Digest}", done.RootElement.GetProperty("to").GetString());
                Assert.Equal(["full"], done.RootElement.GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
            }
            Assert.Contains($"{first.Uri}@{first.Digest}", ProductionValues(env));
            await AssertRunningAsync(env, first);
            var log = env.ConfigLog("production");
            Assert.Equal(7, log.Length);
            Assert.StartsWith("Roll back ", log[0]);
            Assert.StartsWith("Roll back ", log[1]);
            Assert.StartsWith("Roll back ", log[2]);

            // A third has nothing earlier to go to: 409, nothing changed.
            (status, body) = await DeployerAsync(env, HttpMethod.Post, $"/api/services/{env.Service}/rollback?environment=production", env.Token);
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal(7, env.ConfigLog("production").Length);

            await WaitForAsync(env, "the second rollback event",
                e => e.Type == EventTypes.NameOf<RollbackPerformed>() && e.DataAs<RollbackPerformed>().ToDigest == first.Digest);
            var rollbacks = env.PipelineEvents.Events.Where(e => e.Type == EventTypes.NameOf<RollbackPerformed>()).Select(e => e.DataAs<RollbackPerformed>())
                .DistinctBy(r => r.ConfigRevision).Select(r => (r.FromDigest, r.ToDigest, r.By?.Username)).ToList();
            Assert.Equal([(fourth.Digest, third.Digest, env.Approver), (third.Digest, second.Digest, env.Approver), (second.Digest, first.Digest, env.Approver)], rollbacks);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    [Fact]
    public async Task A_config_yaml_naming_another_projects_service_is_refused_at_planning_and_deploys_nothing()
    {
        await using var env = await PipelineEnvironment.StartAsync("owner");
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var config = PromoteToProduction.Replace("- environments: [production]", "- chart: billing\n            environments: [production]");
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", Files(env, config, "1.0"), "Promote someone else's service");
            var merged = await gerrit.MergeAsync(upload.ChangeNumber);
            var run = await WaitForRunAsync(env, r => r.Trigger.Revision == merged && r.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate);
            var finished = (await WaitForRunEndAsync(env, run))[^1].DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            const string refusal = "`promote[0].chart` names service `billing`, which project";
            Assert.Contains(refusal, finished.Reason);
            Assert.Contains("a run deploys and promotes only its own project's services", finished.Reason);

            // The developer reads it in Gerrit; nothing was built, published, recorded or deployed.
            var review = await WaitForReviewAsync(env, upload.ChangeNumber, m => m.Contains(refusal));
            Assert.Contains("FAILURE", review);
            var types = env.PipelineEvents.Events.Where(e => e.RunId == run).Select(e => e.Type).Distinct().ToList();
            Assert.Equal([EventTypes.NameOf<RunStarted>(), EventTypes.NameOf<RunFinished>()], types);
            Assert.False(Directory.Exists(env.ConfigRepository) && PipelineEnvironment.Git(env.ConfigRepository, "rev-list", "--all").Length > 0);
            Assert.Empty(await RegistryRepositoriesAsync(env));
            Assert.Empty(await env.DeployedContainersAsync());
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    [Fact]
    public async Task A_merge_on_a_non_release_branch_builds_and_tests_but_publishes_and_deploys_nothing()
    {
        await using var env = await PipelineEnvironment.StartAsync("branch");
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var bare = Path.Combine(gerrit.WorkDirectory, "git", env.Project + ".git");
            PipelineEnvironment.Git(bare, "branch", "feature", "master");
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "feature", SampleProject.Files(env.BaseImage), "Hello on a feature branch");
            var merged = await gerrit.MergeAsync(upload.ChangeNumber);
            var run = await WaitForRunAsync(env, r => r.Trigger.Revision == merged && r.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate);
            var events = await WaitForRunEndAsync(env, run);
            var started = events[0].DataAs<RunStarted>();
            var finished = events[^1].DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Succeeded, finished.Outcome);
            Assert.Equal(["build-test", "run-test", "build-production", "smoke"], finished.Steps.Select(s => s.Name));
            const string note = "branch `feature` is not a release branch (master, main): this run builds and tests only; it publishes, deploys and promotes nothing";
            Assert.Equal([note], started.Plan.Notes);
            Assert.Null(finished.Image);
            Assert.DoesNotContain(events, e => e.Type.StartsWith("slipway.publish.") || e.Type.StartsWith("slipway.deploy.") || e.Type.StartsWith("slipway.approval."));

            // Gerrit says why; the registry and the configuration registry are unchanged; nothing runs.
            var review = await WaitForReviewAsync(env, upload.ChangeNumber, m => m.Contains($"/runs/{run}") && m.Contains("SUCCESS"));
            Assert.Contains("Note: " + note, review);
            Assert.Empty(await RegistryRepositoriesAsync(env));
            Assert.False(Directory.Exists(env.ConfigRepository) && PipelineEnvironment.Git(env.ConfigRepository, "rev-list", "--all").Length > 0);
            Assert.Empty(await env.DeployedContainersAsync());
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    /// <summary>Merges a release whose config.yaml promotes into production; approves it once it waits. Returns the run and its image.</summary>
    private static async Task<(string Run, ContainerImage Image)> ReleaseByPromoteAsync(PipelineEnvironment env, string release, bool assertWaiting)
    {
        var gerrit = env.Gerrit.Gerrit;
        var commitsBefore = env.ConfigLog("production").Length;
        var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", Files(env, PromoteToProduction, release), $"Release {release}");
        var merged = await gerrit.MergeAsync(upload.ChangeNumber);
        var run = await WaitForRunAsync(env, r => r.Trigger.Revision == merged && r.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate);
        var requested = (await WaitForAsync(env, "the production approval request",
            e => e.RunId == run && e.Type == EventTypes.NameOf<ApprovalRequested>())).DataAs<ApprovalRequested>();
        Assert.Equal(("production", "production-promote", env.Service), (requested.Environment, requested.Step, requested.Service));
        if (assertWaiting)
        {
            // Published, but production's values untouched while it waits, however long.
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.Equal(commitsBefore, env.ConfigLog("production").Length);
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.RunId == run && e.Type.StartsWith("slipway.promote."));
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>());
        }
        var (status, body) = await DeployerAsync(env, HttpMethod.Post, $"/api/runs/{run}/approve?environment=production", env.Token);
        Assert.True(status == HttpStatusCode.OK, body);
        var events = await WaitForRunEndAsync(env, run);
        var finished = events[^1].DataAs<RunFinished>();
        Assert.True(finished.Outcome == RunOutcome.Succeeded, finished.Reason);
        var promoted = events.Single(e => e.Type == EventTypes.NameOf<PromoteSucceeded>()).DataAs<PromoteSucceeded>();
        Assert.Equal(commitsBefore + 1, env.ConfigLog("production").Length);
        Assert.Equal(promoted.ConfigRevisions["production"], PipelineEnvironment.Git(env.ConfigRepository, "rev-parse", "main").Trim());
        return (run, promoted.Image);
    }

    private static string ProductionValues(PipelineEnvironment env) =>
        PipelineEnvironment.Git(env.ConfigRepository, "show", $"main:environments/production/{env.Service}.yaml");

    /// <summary>Every production instance runs <paramref name="image"/> and answers on 127.0.0.1.</summary>
    private static async Task AssertRunningAsync(PipelineEnvironment env, ContainerImage image)
    {
        var (status, body) = await DeployerAsync(env, HttpMethod.Get, $"/api/services/{env.Service}?environment=production", env.Token);
        Assert.True(status == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        var instances = doc.RootElement.GetProperty("instances").EnumerateArray().ToList();
        Assert.NotEmpty(instances);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var instance in instances)
        {
            Assert.Equal($"{image.Uri}@{image.Digest}", instance.GetProperty("image").GetString());
            var endpoint = instance.GetProperty("endpoint").GetString()!;
            Assert.StartsWith("http://127.0.0.1:", endpoint);
            Assert.Equal("Hello, world!", (await http.GetFromJsonAsync<JsonElement>(endpoint + "/hello/world")).GetProperty("greeting").GetString());
        }
        Assert.Equal(instances.Count, (await env.DeployedContainersAsync("production")).Length);
    }

    /// <summary>The registry's repositories named after this test's project (the publisher's default image names).</summary>
    private static async Task<string[]> RegistryRepositoriesAsync(PipelineEnvironment env)
    {
        using var http = new HttpClient();
        var user = Environment.GetEnvironmentVariable("Registry__Username")!;
        var password = Environment.GetEnvironmentVariable("Registry__Password")!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        var registry = Environment.GetEnvironmentVariable("Registry__Url")!.TrimEnd('/');
        if (!registry.Contains("://")) registry = "http://" + registry;
        using var catalog = JsonDocument.Parse(await http.GetStringAsync($"{registry}/v2/_catalog?n=1000"));
        return catalog.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!)
            .Where(r => r.Contains(env.Service, StringComparison.Ordinal)).ToArray();
    }

    private static async Task<(HttpStatusCode Status, string Body)> DeployerAsync(PipelineEnvironment env, HttpMethod method, string path, string token,
        CancellationToken ct = default, string? key = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(method, env.UrlOf("deployer") + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary>Polls the configuration registry until the production values file has <paramref name="count"/> commits (bounded).</summary>
    private static async Task WaitForCommitsAsync(PipelineEnvironment env, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (env.ConfigLog("production").Length < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the configuration registry never had {count} commits");
            await Task.Delay(25);
        }
    }

    private static async Task<string> WaitForRunAsync(PipelineEnvironment env, Func<RunStarted, bool> match) =>
        (await WaitForAsync(env, "a run starting", e => e.Type == EventTypes.NameOf<RunStarted>() && match(e.DataAs<RunStarted>()))).RunId!;

    private static async Task<IReadOnlyList<EventEnvelope>> WaitForRunEndAsync(PipelineEnvironment env, string runId)
    {
        await WaitForAsync(env, $"run {runId} finishing", e => e.RunId == runId && e.Type == EventTypes.NameOf<RunFinished>());
        return env.PipelineEvents.Events.Where(e => e.RunId == runId).DistinctBy(e => e.Id).ToList();
    }

    private static Task<EventEnvelope> WaitForAsync(PipelineEnvironment env, string what, Func<EventEnvelope, bool> match) =>
        env.PipelineEvents.WaitForAsync(what, match, RunTimeout);

    private static async Task<string> WaitForReviewAsync(PipelineEnvironment env, int change, Func<string, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(change).Select(r => r.Message).FirstOrDefault(m => m is not null && match(m)) is { } found) return found;
            await Task.Delay(250);
        }
        throw new TimeoutException($"no matching review on change {change}: {string.Join("\n---\n", env.Gerrit.Gerrit.Reviews(change).Select(r => r.Message))}");
    }
}
