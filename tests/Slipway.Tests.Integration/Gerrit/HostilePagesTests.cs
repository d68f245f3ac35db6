using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Slipway.Contracts;
using Slipway.Tests.Integration.EndToEnd;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// What a hostile patch set puts in front of people through the reporter: step output, reasons and artifact names
/// on the run page, in the JSON API and in downloads. The pages carry strict headers, render the text as text in a
/// real browser (no script runs, live updates still work), and downloads serve only the run's own listed files.
/// </summary>
public sealed partial class HostilePagesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);
    private const string ImageId = "sha256:2c5f3e0d6a0b1c4e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e";

    private const string HostileOutput =
        "<img src=x onerror=\"window.__pwned='img';alert(1)\">\n" +
        "</script><script>window.__pwned='script'</script>\n" +
        "a\u2028b\u2029c <svg onload=\"window.__pwned='svg'\">\n" +
        "[click](javascript:window.__pwned='link') <a href=\"javascript:window.__pwned='a'\">x</a>";

    private const string HostileReason = "exit code 1 <iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>\"'";

    /// <summary>An artifact name with a quote, a semicolon, angle brackets and non-ASCII: a header and HTML hazard.</summary>
    private const string HostileArtifact = "out/re\"port;x=1 é<b>.html";
    private const string HostileArtifactContent = "<!doctype html><script>alert('served from slipway')</script>";

    [GeneratedRegex("<script(?![^>]*\\ssrc=\"/static/)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [Fact]
    public async Task Hostile_output_renders_as_text_under_a_strict_policy_and_downloads_serve_only_the_runs_own_files()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        var artifacts = Directory.CreateTempSubdirectory("slipway-hostile-pages-");
        try
        {
            var runId = TestInfrastructure.UniqueName("run-");
            var otherRun = TestInfrastructure.UniqueName("run-");
            var reporter = env.StartService("reporter", "Slipway.Reporter", TestInfrastructure.UniqueName("rep_"),
                new Dictionary<string, string?> { ["Reporter__PublicUrl"] = "https://ci.example.org", ["Artifacts__Directory"] = artifacts.FullName });

            // The tester's part: the stage's copy on disk, announced by test.succeeded. The other run keeps a secret.
            var html = await WriteArtifactAsync(artifacts.FullName, runId, "test", HostileArtifact, HostileArtifactContent);
            var secret = await WriteArtifactAsync(artifacts.FullName, otherRun, "test", "secret.txt", "the other run's secret");
            foreach (var e in Running(runId, html, HostileOutput)) await env.Kafka.ProduceAsync(env.PipelineTopic, runId, e);
            foreach (var e in Running(otherRun, secret, "fine")) await env.Kafka.ProduceAsync(env.PipelineTopic, otherRun, e);
            await WaitForAsync(reporter, $"/api/runs/{runId}", json => json.Contains("\"state\":\"failed\"", StringComparison.Ordinal));
            await WaitForAsync(reporter, $"/api/runs/{otherRun}/details", json => json.Contains("secret.txt", StringComparison.Ordinal));

            // Every page and API answer carries the headers; no page holds an inline script.
            foreach (var path in new[] { "/", $"/runs/{runId}", "/environments", "/trends?project=demo%2Fhostile", $"/api/runs/{runId}",
                         $"/api/runs/{runId}/details", "/api/runs", $"/runs/{runId}/log/test/lint", "/static/live.js", "/nothing-here" })
            {
                using var answer = await reporter.GetAsync(path);
                AssertStrictHeaders(answer, path);
                var body = await answer.Content.ReadAsStringAsync();
                var type = answer.Content.Headers.ContentType?.MediaType;
                // JSON and logs hold the text as it is (raw '<'); nosniff and their types keep browsers from rendering it.
                Assert.True(type is null or "text/html" or "application/json" or "text/plain" or "text/javascript", $"{path}: {type}");
                if (type != "text/html") continue;
                Assert.False(InlineScript().IsMatch(body), $"{path} has an inline script");
                Assert.DoesNotContain("<img src=x", body);
                Assert.DoesNotContain("<iframe", body);
            }
            using (var page = await reporter.GetAsync($"/runs/{runId}"))
            {
                var body = await page.Content.ReadAsStringAsync();
                Assert.Contains("&lt;img src=x onerror=&quot;window.__pwned=&#39;img&#39;;alert(1)&quot;&gt;", body);
                Assert.Contains($"<script src=\"/static/live.js\" data-fragment=\"run\" data-run=\"{runId}\"></script>", body);
                Assert.Contains("<link rel=\"stylesheet\" href=\"/static/slipway.css\">", body);
            }
            using (var log = await reporter.GetAsync($"/runs/{runId}/log/test/lint"))
            {
                Assert.Equal("text/plain; charset=utf-8", log.Content.Headers.ContentType!.ToString());
                Assert.Equal("attachment", log.Content.Headers.ContentDisposition!.DispositionType);
            }

            // The artifact: bytes as a download, never as a page of this origin; its name survives as filename*.
            var link = "/runs/" + runId + "/artifacts/test/" + string.Join('/', HostileArtifact.Split('/').Select(Uri.EscapeDataString));
            using (var download = await reporter.GetAsync(link))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                AssertStrictHeaders(download, link);
                Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.ToString());
                var disposition = download.Content.Headers.ContentDisposition!;
                Assert.Equal("attachment", disposition.DispositionType);
                Assert.Equal("re\"port;x=1 é<b>.html", disposition.FileNameStar);
                Assert.Single(download.Content.Headers.GetValues("Content-Disposition"));
                Assert.Equal(HostileArtifactContent, await download.Content.ReadAsStringAsync());
            }

            // Paths the run did not list, in every spelling, reach nothing: not the other run's file, not the disk.
            foreach (var target in new[]
                     {
                         $"/runs/{runId}/artifacts/test/../../{otherRun}/test/secret.txt",
                         $"/runs/{runId}/artifacts/test/..%2f..%2f{otherRun}%2ftest%2fsecret.txt",
                         $"/runs/{runId}/artifacts/test/%2e%2e/%2e%2e/{otherRun}/test/secret.txt",
                         $"/runs/{runId}/artifacts/test/%252e%252e/%252e%252e/{otherRun}/test/secret.txt",
                         $"/runs/{runId}/artifacts/test/..\\..\\{otherRun}\\test\\secret.txt",
                         $"/runs/{runId}/artifacts/test/..%5c..%5c{otherRun}%5ctest%5csecret.txt",
                         $"/runs/{runId}/artifacts/test/secret.txt",
                         $"/runs/{runId}/artifacts/test/{artifacts.FullName}/{otherRun}/test/secret.txt",
                         $"/runs/{runId}/artifacts/test/%2f{artifacts.FullName.TrimStart('/')}/{otherRun}/test/secret.txt",
                         $"/runs/{runId}/artifacts/..%2f{otherRun}%2ftest/secret.txt",
                         $"/runs/{Uri.EscapeDataString("../" + otherRun)}/artifacts/test/secret.txt",
                         "/runs/x/artifacts/test/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     })
            {
                var (status, raw) = await RawGetAsync(reporter.Port, target);
                Assert.True(status is 400 or 404, $"{target}: {status}\n{raw}");
                Assert.DoesNotContain("the other run's secret", raw);
                Assert.DoesNotContain("root:", raw);
            }

            // A real browser: the output is text, no hostile script runs, nothing breaks the policy, and the page
            // still updates live when the run ends.
            var shots = Path.Combine(TestInfrastructure.RepoRoot, "TestResults", "screenshots", "hostile-pages");
            var ready = Path.Combine(artifacts.FullName, "browser-ready");
            await using var browser = DashboardBrowser.StartScript("hostile.js", "hostile-pages", new Dictionary<string, string>(),
                $"http://127.0.0.1:{reporter.Port}/runs/{runId}", ready);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!File.Exists(ready) && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.True(File.Exists(ready), "the browser did not open the run page");
            await env.Kafka.ProduceAsync(env.PipelineTopic, runId, Finished(runId));
            var seen = await browser.SeenAsync();

            Assert.Equal("failed", seen.GetProperty("state").GetString());
            Assert.Equal("yes", seen.GetProperty("samePage").GetString()); // replaced in place, not reloaded
            Assert.Equal(System.Text.Json.JsonValueKind.Null, seen.GetProperty("pwned").ValueKind);
            Assert.Empty(seen.GetProperty("dialogs").EnumerateArray());
            Assert.Empty(seen.GetProperty("errors").EnumerateArray());
            Assert.Empty(seen.GetProperty("violations").EnumerateArray());
            Assert.Equal(0, seen.GetProperty("elementsInLogs").GetInt32());
            Assert.Equal("rgb(34, 51, 68)", seen.GetProperty("stylesApplied").GetString()); // the style sheet loads under the policy
            var logs = seen.GetProperty("logs").EnumerateArray().Select(l => l.GetString()).ToList();
            Assert.Contains(HostileOutput, logs);
            Assert.DoesNotContain(seen.GetProperty("links").EnumerateArray(),
                l => l.GetString() is { } href && href.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            artifacts.Delete(recursive: true);
        }
    }

    private static void AssertStrictHeaders(HttpResponseMessage answer, string path)
    {
        string? One(string name) =>
            answer.Headers.TryGetValues(name, out var v) || answer.Content.Headers.TryGetValues(name, out v) ? string.Join(", ", v) : null;
        Assert.True(One("Content-Security-Policy") ==
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            $"{path}: Content-Security-Policy {One("Content-Security-Policy")}");
        Assert.True(One("X-Content-Type-Options") == "nosniff", $"{path}: X-Content-Type-Options {One("X-Content-Type-Options")}");
        Assert.True(One("X-Frame-Options") == "DENY", $"{path}: X-Frame-Options {One("X-Frame-Options")}");
        Assert.True(One("Referrer-Policy") == "no-referrer", $"{path}: Referrer-Policy {One("Referrer-Policy")}");
    }

    private static async Task<RunArtifact> WriteArtifactAsync(string root, string runId, string stage, string path, string content)
    {
        var file = Path.Combine(root, runId, stage, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, content);
        var bytes = Encoding.UTF8.GetBytes(content);
        return new RunArtifact { Path = path, SizeBytes = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
    }

    /// <summary>A run whose test/run step kept <paramref name="artifact"/> and whose test/lint step failed with <paramref name="output"/>; not finished yet.</summary>
    private static EventEnvelope[] Running(string runId, RunArtifact artifact, string output)
    {
        var started = new RunStarted
        {
            Trigger = new RunTrigger { Kind = TriggerKind.Patchset, Project = "demo/hostile", Change = 7, Patchset = 1, Ref = "refs/changes/07/7/1",
                Revision = "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819" },
            Plan = new RunPlan
            {
                Pipeline = "service",
                Stages = [new PlanStage { Name = "test", Steps = [
                    new PlanStep { Name = "run", Kind = StepKind.Test, Run = new RunParams() },
                    new PlanStep { Name = "lint", Kind = StepKind.Test, Run = new RunParams() } ] }],
                Graph = [new PlanGraphNode { Stage = "test", DependsOn = [] }],
            },
            StartedAt = T0,
        };
        var kept = new TestSucceeded
        {
            Stage = "test", Step = "run", Attempt = 1, StartedAt = T0.AddSeconds(1), FinishedAt = T0.AddSeconds(2), DurationMs = 1000,
            ImageId = ImageId, ExitCode = 0, OutputTail = "ok", Artifacts = [artifact],
        };
        var failed = new TestFailed
        {
            Stage = "test", Step = "lint", Attempt = 1, StartedAt = T0.AddSeconds(3), FinishedAt = T0.AddSeconds(4), DurationMs = 1000,
            ImageId = ImageId, ExitCode = 1, Reason = HostileReason, OutputTail = output,
        };
        return
        [
            EventEnvelope.Create(started, "/tests", runId: runId, id: DeterministicId.From(runId, "started")),
            EventEnvelope.Create(kept, "/tests", runId: runId, id: DeterministicId.From(runId, "kept")),
            EventEnvelope.Create(failed, "/tests", runId: runId, id: DeterministicId.From(runId, "failed")),
        ];
    }

    private static EventEnvelope Finished(string runId) => EventEnvelope.Create(new RunFinished
    {
        Outcome = RunOutcome.Failed, FailedStage = "test", FailedStep = "lint", Reason = HostileReason,
        Steps =
        [
            new StepSummary { Stage = "test", Name = "run", Kind = StepKind.Test, Outcome = StepOutcome.Succeeded, DurationMs = 1000 },
            new StepSummary { Stage = "test", Name = "lint", Kind = StepKind.Test, Outcome = StepOutcome.Failed, DurationMs = 1000 },
        ],
        StartedAt = T0, FinishedAt = T0.AddSeconds(5), DurationMs = 5000,
    }, "/tests", runId: runId, id: DeterministicId.From(runId, "finished"));

    private static async Task WaitForAsync(ServiceProcess reporter, string path, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var answer = await reporter.GetAsync(path);
                last = await answer.Content.ReadAsStringAsync();
                if (answer.IsSuccessStatusCode && done(last)) return;
            }
            catch (HttpRequestException e) // still starting
            {
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{path} never showed what was waited for: {last}\n{reporter.Output}");
    }

    /// <summary>A GET with the target exactly as written (HttpClient would resolve dot segments before sending).</summary>
    private static async Task<(int Status, string Raw)> RawGetAsync(int port, string target)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var raw = await reader.ReadToEndAsync();
        var status = raw.Split(' ', 3) is [_, var code, ..] && int.TryParse(code, out var s) ? s : 0;
        return (status, raw);
    }
}
