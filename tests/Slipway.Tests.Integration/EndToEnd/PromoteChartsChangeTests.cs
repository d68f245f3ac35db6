using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Slipway.Contracts;
using Slipway.Deployer.ChartsChange;
using Slipway.Gerrit.Rest;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Issue 11's promote as PipelineLib did it, through the six services: a merged release whose config.yaml promotes opens
/// one change in the charts project's Gerrit (the stand-in, over real git) for reviewers, besides recording the image in
/// the configuration registry; a replayed promote whose earlier attempt had opened the change finds it and opens no other.
/// </summary>
public sealed class PromoteChartsChangeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);
    private const string Charts = "operations/deployment-charts";

    // Production needs an approver: the step waits, so the test acts at a known point (before anything is written).
    private const string Config = """
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

    [Fact]
    public async Task A_merged_release_opens_one_charts_change_and_a_replayed_promote_finds_it_instead_of_opening_another()
    {
        await using var env = await PipelineEnvironment.StartAsync("charts", new Dictionary<string, string?>
        {
            ["Deployer__Promote__Enabled"] = "true",
            ["Deployer__Promote__GerritProject"] = Charts,
        });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            await gerrit.CreateProjectAsync(Charts);
            var chartsTip = await ChartsTipAsync(env);
            var valuesPath = $"helmfile.d/services/{env.Service}/values-production.yaml";

            // 1. A release: after approval, one change with PipelineLib's edit, for the run's published tag.
            var (run, opened, promoted) = await ReleaseAsync(env, "1.0", beforeApproval: null);
            Assert.False(opened.AlreadyOpen);
            Assert.Equal((Charts, "master", env.Service, "production-promote"), (opened.Project, opened.Branch, opened.Chart, opened.Step));
            Assert.Equal(promoted.Image.Tags[0], opened.Version);
            Assert.Equal(ChartsChangeProposer.ChangeIdFor(Charts, "master", run, "production-promote", env.Service), opened.ChangeId);
            Assert.Equal([valuesPath], opened.Files);
            var changes = await ChartsChangesAsync(env);
            var change = Assert.Single(changes);
            Assert.Equal((opened.Change, opened.ChangeId, "NEW", "citoid: pipeline bot promote".Replace("citoid", env.Service)),
                (change.Number, change.ChangeId, change.Status, change.Subject));
            var clone = Fetch(env, change.Number);
            try
            {
                var revision = change.CurrentRevision!;
                Assert.Equal(chartsTip, Git(clone, "rev-parse", revision + "^").Trim());
                Assert.Equal($"A\t{valuesPath}\n", Git(clone, "diff", "--name-status", revision + "^", revision));
                Assert.Equal($"main_app:\n  version: {opened.Version}\n", Git(clone, "show", $"{revision}:{valuesPath}"));
            }
            finally
            {
                Directory.Delete(clone, recursive: true);
            }
            // The configuration registry still records the image, as before.
            Assert.Contains($"{promoted.Image.Uri}@{promoted.Image.Digest}",
                PipelineEnvironment.Git(env.ConfigRepository, "show", $"main:environments/production/{env.Service}.yaml"));

            // 2. A release whose earlier promote attempt pushed its change and then died: the replay finds that change.
            var (secondRun, reopened, _) = await ReleaseAsync(env, "2.0", beforeApproval: async secondRunId =>
            {
                var changeId = ChartsChangeProposer.ChangeIdFor(Charts, "master", secondRunId, "production-promote", env.Service);
                await gerrit.UploadPatchsetAsync(Charts, "master", new Dictionary<string, string?> { [valuesPath] = "main_app:\n  version: left-by-a-crash\n" },
                    $"{env.Service}: pipeline bot promote", changeId, gerrit.HttpAccount);
            });
            Assert.True(reopened.AlreadyOpen);
            Assert.Equal(ChartsChangeProposer.ChangeIdFor(Charts, "master", secondRun, "production-promote", env.Service), reopened.ChangeId);
            changes = await ChartsChangesAsync(env);
            Assert.Equal(2, changes.Count);
            var second = Assert.Single(changes, c => c.ChangeId == reopened.ChangeId);
            Assert.Equal(reopened.Change, second.Number);
            // Nothing was pushed again: the change still has only the patch set the crashed attempt left.
            Assert.Single(gerrit.Events(), e => e.Type == "patchset-created" && e.Json.Contains(reopened.ChangeId, StringComparison.Ordinal));
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    /// <summary>Merges a release; once its promote waits for approval, runs <paramref name="beforeApproval"/>, approves, and waits for the run's end.</summary>
    private static async Task<(string Run, PromoteChangeOpened Opened, PromoteSucceeded Promoted)> ReleaseAsync(PipelineEnvironment env, string release,
        Func<string, Task>? beforeApproval)
    {
        var gerrit = env.Gerrit.Gerrit;
        var files = SampleProject.Files(env.BaseImage).ToDictionary();
        files[".pipeline/config.yaml"] = Config;
        files["CHANGELOG"] = release + "\n";
        var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", files, $"Release {release}");
        var merged = await gerrit.MergeAsync(upload.ChangeNumber);
        var run = (await WaitForAsync(env, "the release run starting", e => e.Type == EventTypes.NameOf<RunStarted>()
            && e.DataAs<RunStarted>().Trigger is { Project: var p, Revision: var r } && p == env.Project && r == merged)).RunId!;
        await WaitForAsync(env, "the production approval request", e => e.RunId == run && e.Type == EventTypes.NameOf<ApprovalRequested>());
        if (beforeApproval is not null) await beforeApproval(run);
        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) })
        using (var request = new HttpRequestMessage(HttpMethod.Post, env.UrlOf("deployer") + $"/api/runs/{run}/approve?environment=production"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", env.Token);
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
        await WaitForAsync(env, $"run {run} finishing", e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>());
        var events = env.PipelineEvents.Events.Where(e => e.RunId == run).DistinctBy(e => e.Id).ToList();
        var finished = events.Single(e => e.Type == EventTypes.NameOf<RunFinished>()).DataAs<RunFinished>();
        Assert.True(finished.Outcome == RunOutcome.Succeeded, finished.Reason);
        var opened = events.Single(e => e.Type == EventTypes.NameOf<PromoteChangeOpened>()).DataAs<PromoteChangeOpened>();
        var promoted = events.Single(e => e.Type == EventTypes.NameOf<PromoteSucceeded>()).DataAs<PromoteSucceeded>();
        return (run, opened, promoted);
    }

    private static async Task<List<ChangeInfo>> ChartsChangesAsync(PipelineEnvironment env)
    {
        using var http = new HttpClient();
        var g = env.Gerrit.Gerrit;
        return await new GerritRestClient(http, g.HttpUrl, g.HttpUser, g.HttpPassword).QueryAsync($"project:{Charts}", 100, CancellationToken.None, "CURRENT_REVISION");
    }

    private static async Task<string> ChartsTipAsync(PipelineEnvironment env)
    {
        using var http = new HttpClient();
        var g = env.Gerrit.Gerrit;
        return (await new GerritRestClient(http, g.HttpUrl, g.HttpUser, g.HttpPassword).GetBranchAsync(Charts, "master", CancellationToken.None)).Revision;
    }

    private static string Fetch(PipelineEnvironment env, int change)
    {
        var clone = Directory.CreateTempSubdirectory("slipway-charts-e2e-").FullName;
        Git(clone, "init", "--quiet");
        Git(clone, "fetch", "--quiet", $"{env.Gerrit.Gerrit.HttpUrl}/{Charts}", StandIn.PatchSetRef(change, 1));
        return clone;
    }

    private static string Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {stderr.Result}");
        return stdout.Result;
    }

    private static Task<EventEnvelope> WaitForAsync(PipelineEnvironment env, string what, Func<EventEnvelope, bool> match) =>
        env.PipelineEvents.WaitForAsync(what, match, RunTimeout);
}
