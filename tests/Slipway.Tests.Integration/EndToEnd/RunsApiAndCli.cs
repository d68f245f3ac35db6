using System.Net;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Embedded;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// The reporter's run API (<c>/api/runs</c>, <c>/api/runs/{id}</c>) after a finished patch-set run, read directly
/// and through `slipway runs`, `slipway run` and `slipway logs` (the CLI process, pointed at the reporter).
/// </summary>
internal static class RunsApiAndCli
{
    public static async Task AssertListsFinishedRunAsync(PipelineEnvironment env, string runId, RunStarted started, int change)
    {
        var reporter = env.UrlOf("reporter");
        var steps = started.Plan.Stages.SelectMany(s => s.Steps.Select(step => $"{s.Name}/{step.Name}")).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        using (var page = JsonDocument.Parse(await http.GetStringAsync($"{reporter}/api/runs?project={Uri.EscapeDataString(env.Project)}&state=succeeded")))
        {
            var run = Assert.Single(page.RootElement.GetProperty("runs").EnumerateArray());
            Assert.Equal((runId, change, "master", "patchset", "succeeded", steps.Count, steps.Count),
                (run.GetProperty("runId").GetString(), run.GetProperty("change").GetInt32(), run.GetProperty("branch").GetString(),
                 run.GetProperty("trigger").GetString(), run.GetProperty("state").GetString(),
                 run.GetProperty("stepsStarted").GetInt32(), run.GetProperty("stepsTotal").GetInt32()));
            Assert.Equal(JsonValueKind.Null, page.RootElement.GetProperty("next").ValueKind);
        }
        using (var none = JsonDocument.Parse(await http.GetStringAsync($"{reporter}/api/runs?project={Uri.EscapeDataString(env.Project)}&state=running")))
            Assert.Empty(none.RootElement.GetProperty("runs").EnumerateArray());
        using (var bad = await http.GetAsync($"{reporter}/api/runs?state=exploded&limit=100000"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("state must be one of running, succeeded, failed, cancelled", await bad.Content.ReadAsStringAsync());
        }

        var (code, listed, _) = await CliAsync("runs", "--reporter", reporter, "--project", env.Project);
        Assert.Equal(0, code);
        var line = Assert.Single(listed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(runId, line);
        Assert.Contains($"succeeded  step {steps.Count} of {steps.Count}  {env.Project} change {change},1 (patchset, ", line);

        (code, var shown, _) = await CliAsync("run", runId, "--reporter", reporter);
        Assert.Equal(0, code);
        Assert.Contains($"run {runId}: {env.Project} patchset at {started.Trigger.Revision}", shown);
        foreach (var step in steps) Assert.Contains($"  {step}", shown);

        var testStep = started.Plan.Stages.SelectMany(s => s.Steps.Where(x => x.Kind == StepKind.Test).Select(x => $"{s.Name}/{x.Name}")).First();
        (code, var logs, _) = await CliAsync("logs", runId, testStep, "--reporter", reporter);
        Assert.Equal(0, code);
        Assert.False(string.IsNullOrWhiteSpace(logs));
        (code, _, var missing) = await CliAsync("logs", runId, "no/such-step", "--reporter", reporter);
        Assert.Equal((1, "no step no/such-step in this run (yet)"), (code, missing.Trim()));
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var cli = Path.Combine(TestInfrastructure.RepoRoot, "cli", "bin", TestInfrastructure.Configuration, "net10.0", "slipway.dll");
        var (exit, stdout, stderr) = await ProcessRunner.RunAsync("dotnet", [cli, .. args], timeout: TimeSpan.FromSeconds(60));
        return (exit, stdout, stderr);
    }
}
