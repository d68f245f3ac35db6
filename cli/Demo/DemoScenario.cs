using System.Net.Http.Headers;
using System.Text.Json;
using Slipway.Cli.Stack;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Pipeline.Planning;
using Slipway.Pipeline.Report;

namespace Slipway.Cli.Demo;

/// <summary>
/// The main job on the embedded stack, as a developer and a release engineer would live it: a patch set is
/// built, tested and smoke-tested and the result lands in Gerrit; once merged, the image is published, rolled
/// out to staging, and after approval to production in stages. Every step is checked; the first one that does
/// not happen as said ends the demo with a failure.
/// </summary>
internal sealed class DemoScenario(EmbeddedStack stack, PipelineWatcher events)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);
    private readonly GerritStandIn.GerritStandIn _gerrit = stack.Gerrit!;
    private int _reviewsShown;

    public async Task RunAsync(CancellationToken ct)
    {
        var baseImage = stack.Environment.GetValueOrDefault("Slipway__BaseImage") ?? "debian:bookworm";
        Say($"dashboard: {stack.Services.UrlOf("reporter")}/ (runs, live progress, logs, trends, environments; JSON under /api)");
        Say($"1/6 creating project {SampleProject.Name} in Gerrit; waiting for the gateway's stream-events connection");
        await _gerrit.CreateProjectAsync(SampleProject.Name, ct: ct);
        await Until("the gateway connects to stream-events", () => _gerrit.StreamConnections > 0, TimeSpan.FromSeconds(60), ct);

        Say("2/6 a developer checks what the pipeline will do (`slipway plan`, the builder's own planner), then uploads the patch set:");
        Say("    a Python HTTP service with .pipeline/blubber.yaml (test and production variants) and an OpenAPI spec with x-amples");
        ShowPlan(SampleProject.Files(baseImage));
        var upload = await _gerrit.UploadPatchsetAsync(SampleProject.Name, "master", SampleProject.Files(baseImage), "Add hello service", ct: ct);
        Say($"    change {upload.ChangeNumber}, patch set {upload.PatchSet}: {upload.Ref} at {upload.Revision[..12]}");
        var patchRun = await RunOfAsync(TriggerKind.Patchset, upload.ChangeNumber, ct);
        var patchDone = await FinishedAsync(patchRun, upload.ChangeNumber, ct);
        Expect(patchDone.Outcome == RunOutcome.Succeeded, $"the patch set run failed: {patchDone.Reason}");
        await CommentAsync(upload.ChangeNumber, "the final comment with Verified +1",
            r => r.Labels.GetValueOrDefault("Verified") == 1 && r.Message?.Contains("succeeded", StringComparison.OrdinalIgnoreCase) == true, ct);

        Say("3/6 a reviewer merges the change: the merge run reuses the images built for the same tree, publishes the image and deploys it to staging");
        await _gerrit.MergeAsync(upload.ChangeNumber, ct: ct);
        var mergeRun = await events.WaitForAsync("the merge run starting",
            e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger is { Kind: TriggerKind.Merge or TriggerKind.RefUpdate } t
                 && t.Project == SampleProject.Name, TimeSpan.FromSeconds(60), ct);
        var runId = mergeRun.RunId!;
        Say($"    run {runId}: {stack.Services.UrlOf("reporter")}/runs/{runId}");
        var published = (await events.WaitForAsync("the image being published", e => e.RunId == runId && e.Type == EventTypes.NameOf<PublishSucceeded>(),
            RunTimeout, ct)).DataAs<PublishSucceeded>().Image;
        Say($"    published {published.Uri}@{published.Digest}");
        Say($"    tags: {string.Join(", ", published.Tags)}");
        await DeployedAsync(runId, "staging", ct);
        var service = (await events.WaitForAsync("staging", e => e.RunId == runId && e.Type == EventTypes.NameOf<DeploySucceeded>(), RunTimeout, ct))
            .DataAs<DeploySucceeded>().Service;
        await ShowServiceAsync("staging", service, ct);

        Say($"4/6 production waits for a human (see {stack.Services.UrlOf("reporter")}/environments): approving as an approver would with `./slipway approve RUN --env production`");
        await events.WaitForAsync("the production approval request", e => e.RunId == runId && e.Type == EventTypes.NameOf<ApprovalRequested>(),
            RunTimeout, ct);
        var approval = await DeployerAsync(HttpMethod.Post, $"/api/runs/{runId}/approve?environment=production", ct);
        Say($"    deployer: {approval}");

        Say("5/6 production rollout: canary (one instance), then half, then all, each waiting for health");
        await DeployedAsync(runId, "production", ct);
        await ShowServiceAsync("production", service, ct);

        Say("6/6 the run ends and Gerrit gets the final comment");
        var mergeDone = await FinishedAsync(runId, upload.ChangeNumber, ct);
        Expect(mergeDone.Outcome == RunOutcome.Succeeded, $"the merge run failed: {mergeDone.Reason}");
        await CommentAsync(upload.ChangeNumber, "the merge run's final comment with the image and its tags",
            r => r.Message?.Contains($"/runs/{runId}") == true && r.Message.Contains(published.Uri), ct);
        foreach (var step in mergeDone.Steps) Say($"    {step.Stage}/{step.Name}: {step.Outcome} {(step.DurationMs is { } ms ? $"{ms / 1000.0:F1} s" : "")}");
        Say($"done: patch set verified in Gerrit, image {published.Uri}:{published.Tags[0]} published, running in staging and production.");
    }

    /// <summary>Prints `slipway plan`'s answer for the files about to be uploaded, as a developer sees it before pushing.</summary>
    private static void ShowPlan(IReadOnlyDictionary<string, string?> files)
    {
        var dir = Directory.CreateTempSubdirectory("slipway-demo-plan-").FullName;
        try
        {
            foreach (var (path, content) in files)
            {
                if (content is null) continue;
                var full = Path.Combine(dir, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, content);
            }
            var output = new StringWriter();
            var context = new PlanningContext(TriggerKind.Patchset, SampleProject.Name, "master", new string('0', 40), DateTimeOffset.UtcNow);
            var code = PlanReport.Run(dir, context, PlanningOptions.Default, output, output);
            foreach (var line in output.ToString().TrimEnd().Split('\n')) Say($"    plan| {line}");
            Expect(code == 0, $"slipway plan refused the sample project (exit {code})");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<string> RunOfAsync(TriggerKind kind, int change, CancellationToken ct) =>
        (await events.WaitForAsync($"a {kind} run of change {change} starting",
            e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger is var t && t.Kind == kind && t.Change == change,
            TimeSpan.FromSeconds(60), ct)).RunId!;

    private async Task<RunFinished> FinishedAsync(string runId, int change, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (DateTime.UtcNow < deadline)
        {
            ShowNewComments(change);
            if (events.Events.FirstOrDefault(e => e.RunId == runId && e.Type == EventTypes.NameOf<RunFinished>()) is { } done)
                return done.DataAs<RunFinished>();
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"run {runId} did not finish within {RunTimeout.TotalMinutes} min");
    }

    private async Task DeployedAsync(string runId, string environment, CancellationToken ct) =>
        await events.WaitForAsync($"the {environment} rollout", e => e.RunId == runId && e.Type == EventTypes.NameOf<DeploySucceeded>()
            && e.DataAs<DeploySucceeded>() is { Percentage: 100 } d && d.Environment == environment, RunTimeout, ct);

    private async Task ShowServiceAsync(string environment, string service, CancellationToken ct)
    {
        using var status = JsonDocument.Parse(await DeployerAsync(HttpMethod.Get, $"/api/services/{service}?environment={environment}", ct));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var instance in status.RootElement.GetProperty("instances").EnumerateArray())
        {
            var endpoint = instance.GetProperty("endpoint").GetString();
            var answer = endpoint is null ? "(no endpoint)" : (await http.GetStringAsync(endpoint + "/hello/world", ct)).Trim();
            Say($"    {environment} {instance.GetProperty("name").GetString()} at {endpoint}: GET /hello/world -> {answer}");
        }
    }

    private async Task CommentAsync(int change, string what, Func<PostedReview, bool> match, CancellationToken ct)
    {
        await Until(what, () => { ShowNewComments(change); return _gerrit.Reviews(change).Any(match); }, TimeSpan.FromSeconds(60), ct);
    }

    private void ShowNewComments(int change)
    {
        var reviews = _gerrit.Reviews(change);
        for (; _reviewsShown < reviews.Count; _reviewsShown++)
        {
            var r = reviews[_reviewsShown];
            var labels = string.Join(" ", r.Labels.Select(l => $"{l.Key}{(l.Value > 0 ? "+" : "")}{l.Value}"));
            ServiceStack.Print("gerrit comment", ConsoleColor.Green, $"change {change} ps{r.PatchSet} by {r.Account.Username} {labels}");
            foreach (var line in (r.Message ?? "").Split('\n')) ServiceStack.Print("gerrit comment", ConsoleColor.Green, "  " + line);
        }
    }

    private async Task<string> DeployerAsync(HttpMethod method, string path, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(method, stack.Services.UrlOf("deployer") + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PipelineSettings.TokenOf(stack.Environment));
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Expect(response.IsSuccessStatusCode, $"the deployer answered {(int)response.StatusCode} to {method} {path}: {body}");
        return body;
    }

    private static async Task Until(string what, Func<bool> condition, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0} s");
            await Task.Delay(200, ct);
        }
    }

    private static void Expect(bool condition, string failure)
    {
        if (!condition) throw new DemoFailedException(failure);
    }

    public static void Say(string line) => ServiceStack.Print("demo", ConsoleColor.White, line);
}

internal sealed class DemoFailedException(string message) : Exception(message);
