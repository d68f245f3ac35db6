using System.Net.Http.Headers;
using System.Text.Json;
using Slipway.Cli.Stack;
using Slipway.Contracts;
using Slipway.Embedded;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Pipeline.Planning;
using Slipway.Pipeline.Report;

namespace Slipway.Cli.Demo;

/// <summary>
/// The main job on the embedded stack, as a developer and a release engineer would live it: a patch set is
/// built, tested and smoke-tested and the result lands in Gerrit; once merged, the image is published, rolled
/// out to staging, and after approval to production in stages. Then the team adopts a PipelineLib config.yaml as real
/// Wikimedia services write it, whose <c>promote</c> records the next release in the configuration registry and opens a
/// change in the charts project for reviewers (<see cref="DemoCharts"/>). Every step is checked; the first one that does
/// not happen as said ends the demo with a failure.
/// </summary>
internal sealed class DemoScenario(EmbeddedStack stack, PipelineWatcher events)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);
    private readonly GerritStandIn.GerritStandIn _gerrit = stack.Gerrit!;
    private readonly Dictionary<int, int> _reviewsShown = [];

    public async Task RunAsync(CancellationToken ct)
    {
        var baseImage = stack.Environment.GetValueOrDefault("Slipway__BaseImage") ?? "debian:bookworm";
        Say($"dashboard: {stack.Services.UrlOf("reporter")}/ (runs, live progress, logs, trends, environments; JSON under /api)");
        Say($"1/7 creating project {SampleProject.Name} in Gerrit; waiting for the gateway's stream-events connection");
        await _gerrit.CreateProjectAsync(SampleProject.Name, ct: ct);
        await Until("the gateway connects to stream-events", () => _gerrit.StreamConnections > 0, TimeSpan.FromSeconds(60), ct);

        Say("2/7 a developer checks what the pipeline will do (`slipway plan`, the builder's own planner), then uploads the patch set:");
        Say("    a Python HTTP service with .pipeline/blubber.yaml (test and production variants) and an OpenAPI spec with x-amples");
        ShowPlan(SampleProject.Files(baseImage));
        var upload = await _gerrit.UploadPatchsetAsync(SampleProject.Name, "master", SampleProject.Files(baseImage), "Add hello service", ct: ct);
        Say($"    change {upload.ChangeNumber}, patch set {upload.PatchSet}: {upload.Ref} at {upload.Revision[..12]}");
        var patchRun = await RunOfAsync(TriggerKind.Patchset, upload.ChangeNumber, ct);
        var patchDone = await FinishedAsync(patchRun, upload.ChangeNumber, ct);
        Expect(patchDone.Outcome == RunOutcome.Succeeded, $"the patch set run failed: {patchDone.Reason}");
        await CommentAsync(upload.ChangeNumber, "the final comment with Verified +1",
            r => r.Labels.GetValueOrDefault("Verified") == 1 && r.Message?.Contains("succeeded", StringComparison.OrdinalIgnoreCase) == true, ct);

        Say("3/7 a reviewer merges the change: the merge run reuses the images built for the same tree, publishes the image and deploys it to staging");
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

        Say($"4/7 production waits for a human (see {stack.Services.UrlOf("reporter")}/environments): approving as an approver would with `./slipway approve RUN --env production`");
        await events.WaitForAsync("the production approval request", e => e.RunId == runId && e.Type == EventTypes.NameOf<ApprovalRequested>(),
            RunTimeout, ct);
        var approval = await DeployerAsync(HttpMethod.Post, $"/api/runs/{runId}/approve?environment=production", ct);
        Say($"    deployer: {approval}");

        Say("5/7 production rollout: canary (one instance), then half, then all, each waiting for health");
        await DeployedAsync(runId, "production", ct);
        await ShowServiceAsync("production", service, ct);

        Say("6/7 the run ends and Gerrit gets the final comment");
        var mergeDone = await FinishedAsync(runId, upload.ChangeNumber, ct);
        Expect(mergeDone.Outcome == RunOutcome.Succeeded, $"the merge run failed: {mergeDone.Reason}");
        await CommentAsync(upload.ChangeNumber, "the merge run's final comment with the image and its tags",
            r => r.Message?.Contains($"/runs/{runId}") == true && r.Message.Contains(published.Uri), ct);
        ShowSteps(mergeDone);

        var promoted = await PromoteAsync(baseImage, ct);
        Say($"done: patch set verified in Gerrit, image {published.Uri}:{published.Tags[0]} published, running in staging and production; "
            + $"with the team's config.yaml, {promoted.Image.Uri}:{promoted.Image.Tags[0]} promoted (registry and charts change).");
    }

    /// <summary>
    /// Step 7: the team's PipelineLib config (<see cref="SampleProject.PipelineConfig"/>) goes through review; once merged, its
    /// publish pipeline publishes and, after the production approval, promotes: the image recorded in the configuration
    /// registry for each environment, and a change opened in the charts project with the new version in values.yaml.
    /// </summary>
    private async Task<PromoteSucceeded> PromoteAsync(string baseImage, CancellationToken ct)
    {
        Say("7/7 the team adopts a PipelineLib .pipeline/config.yaml shaped like real Wikimedia services' (citoid, mathoid): a `test` pipeline");
        Say($"    for patch sets, and a `publish` pipeline whose `promote` hands the image to the {SampleProject.Chart} chart for {string.Join(" and ", DemoCharts.Environments)}");
        Say("    (recorded in the configuration registry, and proposed for review in the charts repository); `slipway plan --event merge`:");
        var files = SampleProject.FilesWithPipelineConfig(baseImage);
        var plan = ShowPlan(files, TriggerKind.Merge);
        Expect(plan.Contains($"promote {SampleProject.Chart} in {string.Join(", ", DemoCharts.Environments)} (approval for production)", StringComparison.Ordinal),
            "slipway plan shows no promote step for the sample config");
        var upload = await _gerrit.UploadPatchsetAsync(SampleProject.Name, "master", files, "Adopt a PipelineLib config that promotes", ct: ct);
        Say($"    change {upload.ChangeNumber}, patch set {upload.PatchSet}: on a patch set only the `test` pipeline runs (PipelineLib promotes only after merge)");
        var patchRun = await RunOfAsync(TriggerKind.Patchset, upload.ChangeNumber, ct);
        var patchDone = await FinishedAsync(patchRun, upload.ChangeNumber, ct);
        Expect(patchDone.Outcome == RunOutcome.Succeeded, $"the config's patch set run failed: {patchDone.Reason}");
        Expect(PlanOf(patchRun).Pipeline == "test", $"the patch set ran pipeline `{PlanOf(patchRun).Pipeline}`, not `test`");
        await CommentAsync(upload.ChangeNumber, "the config's final comment with Verified +1", r => r.Labels.GetValueOrDefault("Verified") == 1, ct);

        var merged = await _gerrit.MergeAsync(upload.ChangeNumber, ct: ct);
        Say($"    merged as {merged[..12]}: one run per pipeline, `test` and `publish`");
        var runs = new Dictionary<string, string>();
        foreach (var pipeline in new[] { "test", "publish" })
            runs[pipeline] = (await events.WaitForAsync($"the merge's `{pipeline}` run starting",
                e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>() is { Trigger.Project: SampleProject.Name } started
                     && started.Trigger.Revision == merged && started.Plan.Pipeline == pipeline, TimeSpan.FromSeconds(60), ct)).RunId!;
        var runId = runs["publish"];
        Say($"    publish run {runId}: {stack.Services.UrlOf("reporter")}/runs/{runId}");
        await events.WaitForAsync("the promote's production approval request", e => e.RunId == runId && e.Type == EventTypes.NameOf<ApprovalRequested>()
            && e.DataAs<ApprovalRequested>().Environment == "production", RunTimeout, ct);
        Say($"    promoting into production waits for an approver, as a deploy does: deployer: {await DeployerAsync(HttpMethod.Post, $"/api/runs/{runId}/approve?environment=production", ct)}");
        var promoted = (await events.WaitForAsync("the promote step", e => e.RunId == runId
            && (e.Type == EventTypes.NameOf<PromoteSucceeded>() || e.Type == EventTypes.NameOf<PromoteFailed>()), RunTimeout, ct)).Event();
        if (promoted is not PromoteSucceeded promote) throw new DemoFailedException($"the promote step failed: {(promoted as PromoteFailed)?.Reason}");
        await ShowRegistryAsync(promote, ct);
        var opened = events.Events.FirstOrDefault(e => e.RunId == runId && e.Type == EventTypes.NameOf<PromoteChangeOpened>())?.DataAs<PromoteChangeOpened>();
        Expect(opened is not null, "the promote step opened no change in the charts project (slipway.promote.change-opened.v1 missing)");
        await ShowChartsChangeAsync(opened!, promote, ct);

        foreach (var (pipeline, run) in runs)
        {
            var done = await FinishedAsync(run, upload.ChangeNumber, ct);
            Expect(done.Outcome == RunOutcome.Succeeded, $"the merge's `{pipeline}` run failed: {done.Reason}");
            if (pipeline == "publish") ShowSteps(done);
        }
        return promote;
    }

    /// <summary>Reads each environment's values back from the configuration registry at the revision the promote recorded.</summary>
    private async Task ShowRegistryAsync(PromoteSucceeded promote, CancellationToken ct)
    {
        var registry = stack.Environment["ConfigRegistry__RepositoryUrl"];
        var image = $"{promote.Image.Uri}@{promote.Image.Digest}";
        foreach (var environment in DemoCharts.Environments)
        {
            Expect(promote.ConfigRevisions.TryGetValue(environment, out var revision), $"the promote recorded nothing for {environment}");
            var path = $"environments/{environment}/{promote.Chart}.yaml";
            var show = await ProcessRunner.RunAsync("git", ["--git-dir", registry, "show", $"{revision}:{path}"], timeout: TimeSpan.FromSeconds(30), ct: ct);
            Expect(show.Succeeded && show.StdOut.Contains(image, StringComparison.Ordinal),
                $"the configuration registry's {path} at {revision} does not hold {image}: {show.StdErr.Trim()}");
            Say($"    configuration registry {revision![..12]} {path}: image {image}");
        }
    }

    /// <summary>Reads the charts change back from Gerrit, as a reviewer would: project, subject, and the version line of values.yaml.</summary>
    private async Task ShowChartsChangeAsync(PromoteChangeOpened opened, PromoteSucceeded promote, CancellationToken ct)
    {
        var change = _gerrit.Change(opened.Change);
        var valuesPath = SampleCharts.ValuesPath(SampleProject.Chart);
        Say($"    charts change for reviewers: {change.Project} change {change.Number} ({change.Status}, topic {change.Topic}): \"{change.Subject}\" {opened.Url}");
        Expect(change.Project == SampleCharts.Project && change.Status == "NEW" && change.Subject == $"{SampleProject.Chart}: pipeline bot promote",
            $"the charts change is not an open `{SampleProject.Chart}: pipeline bot promote` change in {SampleCharts.Project}: {change}");
        Expect(opened.Version == promote.Image.Tags[0], $"the charts change sets version {opened.Version}, not the published tag {promote.Image.Tags[0]}");
        Expect(opened.Files.Contains(valuesPath), $"the charts change does not edit {valuesPath}: {string.Join(", ", opened.Files)}");
        var values = await _gerrit.FileOfCurrentPatchSetAsync(change.Number, valuesPath, ct) ?? "";
        var versionLine = values.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("version:", StringComparison.Ordinal));
        Expect(versionLine?.Trim() == $"version: {opened.Version}", $"{valuesPath} in change {change.Number} has `{versionLine?.Trim()}`, not `version: {opened.Version}`");
        Say($"    {valuesPath}: {versionLine!.Trim()}");
    }

    private static void ShowSteps(RunFinished run)
    {
        foreach (var step in run.Steps) Say($"    {step.Stage}/{step.Name}: {step.Outcome} {(step.DurationMs is { } ms ? $"{ms / 1000.0:F1} s" : "")}");
    }

    private RunPlan PlanOf(string runId) =>
        events.Events.First(e => e.RunId == runId && e.Type == EventTypes.NameOf<RunStarted>()).DataAs<RunStarted>().Plan;

    /// <summary>Prints `slipway plan`'s answer for the files about to be uploaded, as a developer sees it before pushing; returns it.</summary>
    private static string ShowPlan(IReadOnlyDictionary<string, string?> files, TriggerKind trigger = TriggerKind.Patchset)
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
            var context = new PlanningContext(trigger, SampleProject.Name, "master", new string('0', 40), DateTimeOffset.UtcNow);
            var code = PlanReport.Run(dir, context, PlanningOptions.Default, output, output);
            foreach (var line in output.ToString().TrimEnd().Split('\n')) Say($"    plan| {line}");
            Expect(code == 0, $"slipway plan refused the sample project (exit {code})");
            return output.ToString();
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
        for (var shown = _reviewsShown.GetValueOrDefault(change); shown < reviews.Count; _reviewsShown[change] = ++shown)
        {
            var r = reviews[shown];
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
