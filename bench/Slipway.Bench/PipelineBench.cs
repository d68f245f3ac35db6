using System.Diagnostics;
using Slipway.BuildConfig;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench;

/// <summary>
/// The pipeline around the real work, on the demo's sample service (`./slipway bench --pipeline`):
///   1. orchestration overhead: the same build test → run tests → build production → smoke done by hand with
///      the docker CLI, then by the pipeline from a patchset-created (both with a warm layer cache);
///      and a source-only change rebuilt: how many image layers the new production image shares with the old;
///   2. latency added by the pipeline, one change at a time: Gerrit event → first build started, and last step
///      finished → the final Gerrit comment (p50/p99/max);
///   3. N changes uploaded at once: all finish, and no more builds ran at once than configured.
/// Every wait is bounded.
/// </summary>
public static class PipelineBench
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);
    private const int MaxConcurrentBuilds = 2;

    public static async Task RunAsync(IReadOnlyDictionary<string, string> infra, int sequential, int burst)
    {
        var baseImage = infra["Slipway__BaseImage"];
        await using var stack = await PipelineStack.StartAsync(infra, new Dictionary<string, string>
        {
            ["Builder__MaxConcurrentBuilds"] = MaxConcurrentBuilds.ToString(), ["Jobs__Executors"] = "4",
        });
        var gerrit = stack.Gerrit;

        // 1. By hand, twice (the first warms the layer cache), then the pipeline.
        var hand = await ByHandAsync(baseImage);
        hand = await ByHandAsync(baseImage);
        await gerrit.CreateProjectAsync("bench/overhead");
        var upload = await gerrit.UploadPatchsetAsync("bench/overhead", "master", SampleProject.Files(baseImage), "Bench");
        var run = await RunOfAsync(stack, upload.ChangeNumber, "bench/overhead");
        var events = stack.Events.Where(e => e.RunId == run).ToList();
        var pipeline = events.Single(e => e.Type == EventTypes.NameOf<SmokeTestSucceeded>()).Time - events[0].Time;
        var work = events.Where(e => e.Data.ValueKind == System.Text.Json.JsonValueKind.Object && e.Data.TryGetProperty("durationMs", out _)
                                     && e.Type.EndsWith(".succeeded.v1")).Sum(e => e.Data.GetProperty("durationMs").GetInt64());
        Console.WriteLine($"by hand (docker CLI): build test, run tests, build production, smoke: {hand.TotalSeconds:F2} s");
        Console.WriteLine($"pipeline, run.started → smoke-test.succeeded: {pipeline.TotalSeconds:F2} s (steps' own durations: {work / 1000.0:F2} s)");
        Console.WriteLine($"pipeline / by hand: {pipeline / hand:F2}x");

        var files = SampleProject.Files(baseImage).ToDictionary();
        files["server.py"] += "\n# a source-only change\n";
        var ps2 = await gerrit.UploadPatchsetAsync("bench/overhead", "master", files, "Bench", upload.ChangeId);
        var run2 = await RunOfAsync(stack, ps2.ChangeNumber, "bench/overhead", patchset: 2);
        var (shared, total) = await SharedLayersAsync(ProductionImage(stack, run), ProductionImage(stack, run2));
        var rebuild = stack.Events.Single(e => e.RunId == run2 && e.Type == EventTypes.NameOf<BuildSucceeded>()
                                               && e.DataAs<BuildSucceeded>().Step == "build-production").DataAs<BuildSucceeded>();
        Console.WriteLine($"source-only change: production image shares {shared} of {total} layers with the previous one; rebuilt in {rebuild.DurationMs} ms");

        // 2. Latency, one change at a time.
        var toBuild = new List<double>();
        var toComment = new List<double>();
        for (var i = 0; i < sequential; i++)
        {
            var project = $"bench/latency-{i}";
            await gerrit.CreateProjectAsync(project);
            var up = await gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench");
            var emitted = DateTimeOffset.UtcNow; // the stand-in emits patchset-created as the upload's last act
            var id = await RunOfAsync(stack, up.ChangeNumber, project);
            var runEvents = stack.Events.Where(e => e.RunId == id).ToList();
            toBuild.Add((runEvents.First(e => e.Type == EventTypes.NameOf<BuildStarted>()).Time - emitted).TotalMilliseconds);
            var lastStep = runEvents.Last(e => e.Type.EndsWith(".succeeded.v1")).Time;
            var comment = await FinalCommentAsync(gerrit, up.ChangeNumber);
            toComment.Add((comment.At - lastStep).TotalMilliseconds);
        }
        Console.WriteLine($"Gerrit event → first build started ({sequential} changes): {Percentiles(toBuild)}");
        Console.WriteLine($"last step finished → Gerrit comment ({sequential} changes): {Percentiles(toComment)}");

        // 3. A burst of changes at once.
        var clock = Stopwatch.StartNew();
        var uploads = await Task.WhenAll(Enumerable.Range(0, burst).Select(async i =>
        {
            var project = $"bench/burst-{i}";
            await gerrit.CreateProjectAsync(project);
            return (project, await gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench"));
        }));
        var runs = new List<string>();
        foreach (var (project, up) in uploads) runs.Add(await RunOfAsync(stack, up.ChangeNumber, project));
        var all = stack.Events.Where(e => runs.Contains(e.RunId!)).ToList();
        var outcomes = all.Where(e => e.Type == EventTypes.NameOf<RunFinished>()).GroupBy(e => e.DataAs<RunFinished>().Outcome)
            .Select(g => $"{g.Count()} {g.Key}");
        Console.WriteLine($"{burst} changes at once: all finished in {clock.Elapsed.TotalSeconds:F1} s ({string.Join(", ", outcomes)}); "
                          + $"at most {MaxOverlap(all)} builds at once (configured {MaxConcurrentBuilds})");
    }

    private static async Task<TimeSpan> ByHandAsync(string baseImage)
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
            await Docker(dir, "build", "-q", "-f", "Dockerfile.test", "-t", tag + "-t", ".");
            await Docker(dir, "run", "--rm", "--network", "none", tag + "-t");
            await Docker(dir, "build", "-q", "-f", "Dockerfile.production", "-t", tag + "-p", ".");
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
            var elapsed = clock.Elapsed;
            await Docker(dir, "rmi", tag + "-t", tag + "-p");
            return elapsed;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static async Task<string> Docker(string dir, params string[] args)
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

    private static async Task<string> RunOfAsync(PipelineStack stack, int change, string project, int patchset = 1)
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

    private static string Percentiles(List<double> ms)
    {
        var sorted = ms.Order().ToList();
        double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return $"p50 {P(0.5):F0} ms, p99 {P(0.99):F0} ms, max {sorted[^1]:F0} ms";
    }
}
