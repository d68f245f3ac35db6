using System.Diagnostics;
using Slipway.BuildConfig;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench;

/// <summary>
/// The pipeline around the real work, on the demo's sample service (`./slipway bench --pipeline`), side by side with
/// the same work by hand in the same run (warm caches both sides):
///   1. a warm-up (by hand, and a change through the pipeline) and a source-only change rebuilt: how many image
///      layers the new production image shares with the old;
///   2. R repetitions, each: the four patch-set steps by hand with the docker CLI, then a new change through the
///      pipeline (run.started → smoke-test.succeeded; Gerrit event → first build.started; last step → Gerrit
///      comment), then the change merged (the publish step's duration) and the very image it published pushed by
///      hand with <c>docker push</c> to another repository of the same registry, with as many tags;
///   3. N changes uploaded at once: wall time over N × the by-hand median, no more builds at once than configured,
///      and each service's peak RSS (VmHWM) at the end.
/// Every wait is bounded. Fills the issue-13 rows of <see cref="BenchTable"/>.
/// </summary>
public static class PipelineBench
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);
    private const int MaxConcurrentBuilds = 2;

    public static async Task RunAsync(IReadOnlyDictionary<string, string> infra, BenchTable table, int repetitions, int burst)
    {
        var baseImage = infra["Slipway__BaseImage"];
        await using var stack = await PipelineStack.StartAsync(infra, new Dictionary<string, string>
        {
            ["Builder__MaxConcurrentBuilds"] = MaxConcurrentBuilds.ToString(), ["Jobs__Executors"] = "4",
            ["Deployer__Environments__staging__Replicas"] = "1", ["Deployer__Environments__production__Replicas"] = "1",
        });
        var gerrit = stack.Gerrit;
        // Project names carry the stack's prefix: the deployer's staging containers are found (and removed) by it.
        var tag = stack.Prefix.TrimEnd('.');
        await using var pusher = await HandPusher.LoginAsync(infra["Registry__Url"], infra["Registry__Username"], infra["Registry__Password"]);
        try
        {
            // 0. Every project the measurements upload to exists before they start, as a team's repository does: creating one
            // pushes its first branch, whose ref-updated plans a (pipeline-less) branch run 5 s later; made inside a
            // measurement, that plan job's fetch would run beside it and be counted in its plan-job parts.
            for (var i = 0; i < repetitions; i++) await gerrit.CreateProjectAsync($"bench/{tag}-rep-{i}");
            for (var i = 0; i < burst; i++) await gerrit.CreateProjectAsync($"bench/{tag}-burst-{i}");

            // 1. Warm-up: by hand once, one change through the pipeline; then a source-only change.
            await ByHandAsync(baseImage);
            var overhead = $"bench/{tag}-overhead";
            await gerrit.CreateProjectAsync(overhead);
            var upload = await gerrit.UploadPatchsetAsync(overhead, "master", SampleProject.Files(baseImage), "Bench");
            var run = await RunOfAsync(stack, upload.ChangeNumber, overhead);
            var files = SampleProject.Files(baseImage).ToDictionary();
            files["server.py"] += "\n# a source-only change\n";
            var ps2 = await gerrit.UploadPatchsetAsync(overhead, "master", files, "Bench", upload.ChangeId);
            var run2 = await RunOfAsync(stack, ps2.ChangeNumber, overhead, patchset: 2);
            var (shared, total) = await SharedLayersAsync(ProductionImage(stack, run), ProductionImage(stack, run2));
            var rebuild = stack.Events.Single(e => e.RunId == run2 && e.Type == EventTypes.NameOf<BuildSucceeded>()
                                                   && e.DataAs<BuildSucceeded>().Step == "build-production").DataAs<BuildSucceeded>();
            Console.WriteLine($"source-only change: production image shares {shared} of {total} layers with the previous one; rebuilt in {rebuild.DurationMs} ms");

            // 2. Repetitions: by hand, the pipeline, the merge's publish, the same push by hand.
            var hand = new List<double>();
            var pipeline = new List<double>();
            var ratios = new List<double>();
            var toBuild = new List<double>();
            var toComment = new List<double>();
            var publish = new List<double>();
            var handPush = new List<double>();
            var patchsetBuilds = new List<double>();
            var mergeBuilds = new List<double>();
            var mergeReused = 0;
            var trace = new HopTrace(infra["Postgres__ConnectionString"], stack);
            var (planParts, smokeParts) = (ServiceParts.PlanJob(stack), ServiceParts.SmokeStep(stack));
            for (var i = 0; i < repetitions; i++)
            {
                await QuietSmokeAsync();
                var byHand = (await ByHandAsync(baseImage, trace)).TotalSeconds;
                hand.Add(byHand);
                var project = $"bench/{tag}-rep-{i}";
                var planBefore = await planParts.SnapshotAsync();
                var smokeBefore = await smokeParts.SnapshotAsync();
                var up = await gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench");
                var emitted = DateTimeOffset.UtcNow; // the stand-in emits patchset-created as the upload's last act
                var id = await RunOfAsync(stack, up.ChangeNumber, project);
                var runEvents = stack.Events.Where(e => e.RunId == id).ToList();
                var seconds = (runEvents.Single(e => e.Type == EventTypes.NameOf<SmokeTestSucceeded>()).Time - runEvents[0].Time).TotalSeconds;
                pipeline.Add(seconds);
                ratios.Add(seconds / byHand);
                toBuild.Add((runEvents.First(e => e.Type == EventTypes.NameOf<BuildStarted>()).Time - emitted).TotalMilliseconds);
                await trace.AddRunAsync(id, emitted);
                trace.AddParts("plan job", ServiceParts.Between(planBefore, await planParts.SnapshotAsync()));
                trace.AddParts("smoke step", ServiceParts.Between(smokeBefore, await smokeParts.SnapshotAsync()));
                var lastStep = runEvents.Last(e => e.Type.EndsWith(".succeeded.v1")).Time;
                toComment.Add(((await FinalCommentAsync(gerrit, up.ChangeNumber)).At - lastStep).TotalMilliseconds);

                await gerrit.MergeAsync(up.ChangeNumber);
                var mergeRun = (await stack.WaitForAsync(e => e.Type == EventTypes.NameOf<RunStarted>() && e.RunId != id
                    && e.DataAs<RunStarted>().Trigger.Project == project, RunTimeout)).RunId;
                var outcome = await stack.WaitForAsync(e => e.RunId == mergeRun && (e.Type == EventTypes.NameOf<PublishSucceeded>()
                    || e.Type == EventTypes.NameOf<PublishFailed>() || e.Type == EventTypes.NameOf<RunFinished>()), RunTimeout);
                if (outcome.Type != EventTypes.NameOf<PublishSucceeded>())
                    throw new InvalidOperationException($"merge run {mergeRun} of {project} did not publish: {outcome.Type} {outcome.Data}");
                var published = outcome.DataAs<PublishSucceeded>();
                publish.Add(published.DurationMs / 1000.0);
                // The builds of the merge run: the patch set run built the same tree, so they reuse its images.
                List<BuildSucceeded> BuildsOf(string? r) => stack.Events.Where(e => e.RunId == r && e.Type == EventTypes.NameOf<BuildSucceeded>())
                    .Select(e => e.DataAs<BuildSucceeded>()).ToList();
                patchsetBuilds.Add(BuildsOf(id).Sum(b => b.DurationMs) / 1000.0);
                mergeBuilds.Add(BuildsOf(mergeRun).Sum(b => b.DurationMs) / 1000.0);
                mergeReused += BuildsOf(mergeRun).Count(b => b.ReusedFromRun is not null);
                // Let the merge run's staging deploy finish before the next repetition measures anything.
                await stack.WaitForAsync(e => e.RunId == mergeRun && (e.Type == EventTypes.NameOf<ApprovalRequested>() || e.Type == EventTypes.NameOf<RunFinished>()),
                    TimeSpan.FromMinutes(2), throwOnTimeout: false);
                handPush.Add((await pusher.PushAsync(published.ImageId, $"bench/{tag}-byhand-{i}", published.Image.Tags)).TotalSeconds);
                Console.WriteLine($"repetition {i + 1}/{repetitions}: by hand {byHand:F2} s, pipeline {seconds:F2} s ({seconds / byHand:F2}x); "
                                  + $"event → build {toBuild[^1]:F0} ms; publish {publish[^1]:F2} s, docker push by hand {handPush[^1]:F2} s");
            }
            Console.WriteLine($"by hand (docker CLI): build test, run tests, build production, smoke: {Stats.Describe(hand, "s", "F2")}");
            Console.WriteLine($"pipeline, run.started → smoke-test.succeeded: {Stats.Describe(pipeline, "s", "F2")}");
            Console.WriteLine($"pipeline / by hand, paired per repetition: {Stats.Describe(ratios, "x", "F2")}");
            Console.WriteLine($"Gerrit event → first build started: {Stats.Describe(toBuild, "ms")}");
            Console.WriteLine($"last step finished → Gerrit comment: {Stats.Describe(toComment, "ms")}");
            trace.Print(Console.Out);
            Console.WriteLine($"publish step: {Stats.Describe(publish, "s", "F2")}; docker push by hand: {Stats.Describe(handPush, "s", "F2")}");
            Console.WriteLine($"build steps per run: patch set {Stats.Describe(patchsetBuilds, "s", "F2")}; its merge {Stats.Describe(mergeBuilds, "s", "F2")} ({mergeReused} builds reused)");
            var patchsetRatio = Stats.Median(pipeline) / Stats.Median(hand);
            table.Set("patchset", $"{patchsetRatio:F2}x (median {Stats.Median(pipeline):F2} s over {Stats.Median(hand):F2} s; paired ratios p99 {Stats.Percentile(ratios, 0.99):F2}x; n={repetitions})",
                patchsetRatio <= 1.0);
            var publishRatio = Stats.Median(publish) / Stats.Median(handPush);
            table.Set("publish", $"{publishRatio:F2}x (median {Stats.Median(publish):F2} s over {Stats.Median(handPush):F2} s; p99 {Stats.Percentile(publish, 0.99):F2} s over {Stats.Percentile(handPush, 0.99):F2} s)",
                publishRatio <= 1.2);
            table.Set("event-to-build", $"{Stats.Percentile(toBuild, 0.99):F0} ms (median {Stats.Median(toBuild):F0} ms, n={repetitions})", Stats.Percentile(toBuild, 0.99) <= 100);

            // 3. A burst of changes at once.
            var clock = Stopwatch.StartNew();
            var uploads = await Task.WhenAll(Enumerable.Range(0, burst).Select(async i =>
            {
                var project = $"bench/{tag}-burst-{i}";
                return (project, await gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench"));
            }));
            var runs = new List<string>();
            foreach (var (project, up) in uploads) runs.Add(await RunOfAsync(stack, up.ChangeNumber, project));
            var wall = clock.Elapsed.TotalSeconds;
            var all = stack.Events.Where(e => runs.Contains(e.RunId!)).ToList();
            var outcomes = all.Where(e => e.Type == EventTypes.NameOf<RunFinished>()).GroupBy(e => e.DataAs<RunFinished>().Outcome)
                .Select(g => $"{g.Count()} {g.Key}");
            var overlap = MaxOverlap(all);
            var burstRatio = wall / (burst * Stats.Median(hand));
            Console.WriteLine($"{burst} changes at once: all finished in {wall:F1} s ({string.Join(", ", outcomes)}); "
                              + $"at most {overlap} builds at once (configured {MaxConcurrentBuilds}); over {burst} × by hand: {burstRatio:F2}");
            table.Set("burst", $"{burstRatio:F2} ({burst} changes in {wall:F1} s over {burst} × {Stats.Median(hand):F2} s; at most {overlap} builds at once, configured {MaxConcurrentBuilds})",
                burstRatio <= 0.6 && overlap <= MaxConcurrentBuilds);
            var peaks = stack.PeakResidentMegabytes();
            Console.WriteLine($"peak RSS: {string.Join(", ", peaks.Select(p => $"{p.Service} {p.Megabytes:F0} MB"))}");
            table.Set("memory", string.Join(", ", peaks.Select(p => $"{p.Service} {p.Megabytes:F0}")) + " MB", peaks.All(p => p.Megabytes <= 100));
        }
        finally
        {
            await RemoveDeployedContainersAsync(tag);
        }
    }

    /// <summary>The deployer's containers for this stack's projects (their service names carry the stack's tag).</summary>
    internal static async Task RemoveDeployedContainersAsync(string tag)
    {
        try
        {
            var ids = (await Docker(".", "ps", "-a", "--filter", "label=slipway.managed-by=slipway-deployer", "--format", "{{.ID}} {{.Names}}"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(l => l.Contains(tag, StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToArray();
            if (ids.Length > 0) await Docker(".", ["rm", "-f", .. ids]);
        }
        catch (InvalidOperationException e) { Console.Error.WriteLine($"could not remove the deployed containers: {e.Message}"); }
    }

    /// <summary>
    /// Waits (at most 20 s) until the tester's work between runs is done: the last smoke step's paused clean-up and the
    /// spare network and forwarder it makes afterwards, so that engine work does not land inside the by-hand timing.
    /// </summary>
    private static async Task QuietSmokeAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            // Running ones only: a stopped container is no engine work (and an earlier stack may have left some).
            var rows = (await Docker(".", "ps", "--filter", "label=slipway.step-kind=smoke", "--filter", "status=running", "--format", "{{.Label \"slipway.step\"}}"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (rows.Length > 0 && rows.All(r => r == "smoke-spare")) return;
            await Task.Delay(200);
        }
        Console.WriteLine("note: the tester's smoke clean-up or spare was not settled within 20 s; measuring by hand anyway");
    }

    /// <summary>The same work by hand with the docker CLI; each command's time goes to <paramref name="trace"/> when given.</summary>
    private static async Task<TimeSpan> ByHandAsync(string baseImage, HopTrace? trace = null)
    {
        var dir = Directory.CreateTempSubdirectory("slipway-byhand-").FullName;
        var tag = $"slipway-bench/byhand:{Guid.NewGuid():N}"[..40];
        try
        {
            foreach (var (path, content) in SampleProject.Files(baseImage))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, path))!);
                await File.WriteAllTextAsync(Path.Combine(dir, path), content);
            }
            var yaml = await File.ReadAllTextAsync(Path.Combine(dir, ".pipeline/blubber.yaml"));
            await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile.test"), Blubber.Dockerfile(yaml, "test"));
            await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile.production"), Blubber.Dockerfile(yaml, "production"));
            var clock = Stopwatch.StartNew();
            var lap = TimeSpan.Zero;
            void Part(string name) { trace?.AddPart("by hand: " + name, clock.Elapsed - lap); lap = clock.Elapsed; }
            // Host network for the builds: the pipeline's builds reach the package mirrors through the builder's egress proxy,
            // and the default bridge may have no way out on a shared engine.
            await Docker(dir, "build", "-q", "--network", "host", "-f", "Dockerfile.test", "-t", tag + "-t", ".");
            Part("build test image");
            await Docker(dir, "run", "--rm", "--network", "none", tag + "-t");
            Part("run tests");
            await Docker(dir, "build", "-q", "--network", "host", "-f", "Dockerfile.production", "-t", tag + "-p", ".");
            Part("build production image");
            var container = (await Docker(dir, "run", "-d", "-p", "127.0.0.1::8080", tag + "-p")).Trim();
            try
            {
                var port = (await Docker(dir, "port", container, "8080")).Trim().Split(':')[^1];
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (true)
                {
                    try { if ((await http.GetAsync($"http://127.0.0.1:{port}/_info")).IsSuccessStatusCode) break; }
                    catch (HttpRequestException) { }
                    if (DateTime.UtcNow > deadline) throw new TimeoutException("the service did not become ready");
                    await Task.Delay(100);
                }
                await http.GetStringAsync($"http://127.0.0.1:{port}/?spec");
                await http.GetStringAsync($"http://127.0.0.1:{port}/hello/world");
                await http.GetStringAsync($"http://127.0.0.1:{port}/_info");
            }
            finally { await Docker(dir, "rm", "-f", container); }
            Part("smoke (run, ready, three requests, remove)");
            var elapsed = clock.Elapsed;
            // --no-prune keeps the parent layers: the classic builder's cache, warm for the next repetition.
            await Docker(dir, "rmi", "--no-prune", tag + "-t", tag + "-p");
            return elapsed;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    internal static async Task<string> Docker(string dir, params string[] args)
    {
        var info = new ProcessStartInfo("docker") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"docker {string.Join(' ', args)}: {await stderr}");
        return await stdout;
    }

    internal static async Task<string> RunOfAsync(PipelineStack stack, int change, string project, int patchset = 1)
    {
        var started = await stack.WaitForAsync(e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger is var t
            && t.Project == project && t.Change == change && t.Patchset == patchset, RunTimeout);
        var finished = await stack.WaitForAsync(e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), RunTimeout);
        if (finished.DataAs<RunFinished>().Outcome != RunOutcome.Succeeded)
            throw new InvalidOperationException($"run {started.RunId} of {project}: {finished.DataAs<RunFinished>().Reason}");
        return started.RunId!;
    }

    private static async Task<PostedReview> FinalCommentAsync(GerritStandIn.GerritStandIn gerrit, int change)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (gerrit.Reviews(change).FirstOrDefault(r => r.Labels.ContainsKey("Verified")) is { } review) return review;
            await Task.Delay(20);
        }
        throw new TimeoutException("no final comment within 60 s");
    }

    private static string ProductionImage(PipelineStack stack, string runId) =>
        stack.Events.Single(e => e.RunId == runId && e.Type == EventTypes.NameOf<BuildSucceeded>()
                                 && e.DataAs<BuildSucceeded>().Step == "build-production").DataAs<BuildSucceeded>().ImageId;

    private static async Task<(int Shared, int Total)> SharedLayersAsync(string a, string b)
    {
        var la = (await Docker(".", "inspect", "-f", "{{join .RootFS.Layers \" \"}}", a)).Split(' ', StringSplitOptions.TrimEntries);
        var lb = (await Docker(".", "inspect", "-f", "{{join .RootFS.Layers \" \"}}", b)).Split(' ', StringSplitOptions.TrimEntries);
        return (la.Zip(lb).TakeWhile(p => p.First == p.Second).Count(), lb.Length);
    }

    private static int MaxOverlap(IEnumerable<EventEnvelope> events)
    {
        var edges = events.Where(e => e.Type == EventTypes.NameOf<BuildStarted>() || e.Type == EventTypes.NameOf<BuildSucceeded>()
                                      || e.Type == EventTypes.NameOf<BuildFailed>())
            .Select(e => e.Type == EventTypes.NameOf<BuildStarted>()
                ? (At: e.DataAs<BuildStarted>().StartedAt, Delta: 1)
                : (At: e.Data.GetProperty("finishedAt").GetDateTimeOffset(), Delta: -1))
            .OrderBy(x => x.At).ThenBy(x => x.Delta);
        int current = 0, max = 0;
        foreach (var (_, delta) in edges) max = Math.Max(max, current += delta);
        return max;
    }

}
