using System.CommandLine;
using System.Diagnostics;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway test`: starts the embedded infrastructure in its own state directory (installing
/// missing Debian packages), builds, runs every test project with the infrastructure's settings
/// in the environment, and tears the infrastructure down, also when tests fail or are interrupted. After the tests, a
/// short fault campaign (one trial of `slipway chaos`) on infrastructure of its own; its failure fails the run.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "test-infra") };
        var filter = new Option<string?>("--filter") { Description = "dotnet test --filter expression" };
        var noChaos = new Option<bool>("--no-chaos") { Description = "skip the short fault campaign after the tests (it runs by default without --filter)" };
        var chaos = new Option<bool>("--chaos") { Description = "run the short fault campaign after the tests also with --filter" };
        var chaosSeed = new Option<int?>("--chaos-seed") { Description = "seed of the short fault campaign; random when absent, always printed" };
        var command = new Command("test", "run all tests against freshly started embedded infrastructure, then a short fault campaign")
        {
            state, filter, noChaos, chaos, chaosSeed,
        };
        command.SetAction(async (parse, ct) =>
        {
            var repo = RepoPaths.Root();
            // Every .NET process this run starts (the test hosts, the services the tests and the fault campaign start and kill)
            // without the runtime's debugger pipes and diagnostic socket: a killed process leaves its clr-debug-pipe-* and
            // dotnet-diagnostic-* files in the temporary directory, and the tests kill hundreds.
            Environment.SetEnvironmentVariable("DOTNET_EnableDiagnostics", "0");
            // This run's id: the tests' deployers label their containers with it (Deployer:Docker:Owner), so the sweep below
            // (and the reaper's, when this process is killed) takes this run's leftovers and never another run's on a shared engine.
            var testRun = "run-" + Guid.NewGuid().ToString("N")[..12];
            // Tied to this process: killed (even by SIGKILL), it leaves nothing running (docs/reliability.md, "Nothing outlives its starter").
            var infra = InfraFactory.CreateTiedToThisProcess(parse.GetValue(state)!, testRun);
            var results = Path.Combine(repo, "TestResults", "trx");
            var rerunResults = Path.Combine(repo, "TestResults", "trx-rerun");
            foreach (var dir in new[] { results, rerunResults })
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            IReadOnlyList<FailedTest> firstFailures = [], rerunFailures = [], flaky = [];
            ChaosOutcome? campaign = null;
            // CI (no filter) runs the campaign; a developer's filtered run only when asked.
            var runChaos = !parse.GetValue(noChaos) && (parse.GetValue(filter) is null || parse.GetValue(chaos));
            try
            {
                var build = DotnetBuild.BuildSolutionAsync(repo, "Debug", ct);
                // What the test processes install on demand, installed once up front: test projects run in
                // parallel, and two apt-get runs at once would fight over dpkg's lock.
                await Embedded.DebianPackages.EnsureInstalledAsync(["openssh-server", "curl", "git", "chromium"], Console.Out, ct);
                // The browser tests' driver (npm's playwright-core, pinned by tests/browser/package-lock.json).
                if (!await BrowserTests.InstallAsync(repo, ct)) return 1;
                await infra.UpAsync(new Embedded.InfraUpOptions(), ct);
                if (!await build) return 1;
                var environment = InfraEnvironment.Read(infra.EnvFile);
                environment["Slipway__TestRun"] = testRun;
                var exitCode = await RunTestsAsync(repo, results, parse.GetValue(filter), environment, ct);
                if (exitCode != 0)
                {
                    firstFailures = TestFailureSummary.Read(results, Console.Out);
                    var methods = firstFailures.Select(t => t.Method).Where(m => m.Length > 0).Distinct().ToList();
                    // A test that fails on a loaded machine and passes when run again alone is reported as flaky
                    // (by name, with its first failure's message) instead of failing the run; a test that fails
                    // again fails the run. Bounded: only a few failed methods are run again, once.
                    // Only when every test project wrote its results: a test host that crashed leaves tests that never
                    // ran and no failure to name, and running the named ones again must not hide that.
                    var testProjects = Directory.GetDirectories(Path.Combine(repo, "tests"), "Slipway.Tests.*").Length;
                    var everyProjectReported = TestFailureSummary.ResultFileCount(results) >= testProjects;
                    if (!everyProjectReported) Console.WriteLine("not every test project wrote its results (a crashed test host?): nothing is run again");
                    if (everyProjectReported && methods.Count > 0 && methods.Count <= MaxRerunMethods
                        && methods.Count == firstFailures.Select(t => t.Method).Distinct().Count())
                    {
                        Console.WriteLine($"running the {methods.Count} failed test method(s) again, once: {string.Join(", ", methods)}");
                        var rerunFilter = string.Join("|", methods.Select(m => $"FullyQualifiedName={m}"));
                        exitCode = await RunTestsAsync(repo, rerunResults, rerunFilter, environment, ct);
                        rerunFailures = TestFailureSummary.Read(rerunResults, Console.Out);
                        if (exitCode == 0) flaky = firstFailures;
                    }
                }
                // Every test removes the containers its deployer made; any still here leaked: removed now and named loudly.
                // Only a container that cannot be removed fails the run: one removed here no longer outlives it.
                if (!await SweepLeakedContainersAsync(testRun) && exitCode == 0) exitCode = 1;
                Console.WriteLine(exitCode == 0 ? "tests passed" : $"tests failed (exit code {exitCode})");
                if (runChaos)
                {
                    // While the tests' infrastructure is still up, so a dockerd this run started is reused, not started twice.
                    var seed = parse.GetValue(chaosSeed) ?? Random.Shared.Next();
                    Console.WriteLine($"short fault campaign: {ShortCampaign}, seed {seed}");
                    campaign = await ChaosCampaignRun.RunAsync(repo, Path.Combine(repo, ".slipway", "test-chaos-infra"), trials: 1, seed,
                        changes: 1, faults: 2, ChaosCampaignRun.AllFaults, TimeSpan.FromMinutes(12), "Debug", build: false, concurrent: false, ct);
                    Console.WriteLine(campaign.ExitCode == 0 ? "fault campaign passed" : $"fault campaign failed (exit code {campaign.ExitCode})");
                }
                return exitCode != 0 ? exitCode : campaign?.ExitCode ?? 0;
            }
            finally
            {
                // Before the infrastructure (and a dockerd it started) stops: a container left defined would start again with the next dockerd.
                await SweepLeakedContainersAsync(testRun);
                await infra.DownAsync(CancellationToken.None);
                if (flaky.Count > 0) TestFailureSummary.Print("flaky tests: failed, then passed when run again", flaky, Console.Out);
                else
                {
                    TestFailureSummary.Print("failed tests", firstFailures, Console.Out);
                    TestFailureSummary.Print("failed again when run alone", rerunFailures, Console.Out);
                }
                if (campaign is { ExitCode: 0 })
                    Console.WriteLine($"fault campaign passed (seed {campaign.Seed}): {campaign.Findings.LastOrDefault(l => l.StartsWith("summary:", StringComparison.Ordinal))}");
                if (campaign is { ExitCode: not 0 })
                {
                    Console.WriteLine($"failed fault campaign (replay: ./slipway chaos --trials 1 --changes 1 --faults 2 --seed {campaign.Seed}):");
                    foreach (var line in campaign.Findings) Console.WriteLine($"    {line}");
                }
            }
        });
        return command;
    }

    /// <summary>Removes the deployed containers of this run's tests that outlived them, naming them; false if one could not be removed.</summary>
    private static async Task<bool> SweepLeakedContainersAsync(string testRun)
    {
        try
        {
            var swept = await Embedded.DeployedContainerSweep.RemoveAsync(testRun);
            if (swept.Found.Count == 0) return true;
            Console.WriteLine($"LEAK: {swept.Found.Count} container(s) of this run's deployers and testers outlived their tests (removed now): {string.Join(", ", swept.Found)}");
            if (swept.Remaining.Count == 0) return true;
            Console.WriteLine($"LEAK: could not remove: {string.Join(", ", swept.Remaining)}");
            return false;
        }
        catch (Exception e)
        {
            // Never stops the infrastructure's shutdown that follows. No engine to ask (a run whose tests needed none): nothing could have been deployed on it.
            Console.WriteLine($"could not check for leaked deployed containers: {e.Message}");
            return true;
        }
    }

    private const int MaxRerunMethods = 5;
    private const string ShortCampaign = "1 trial, 1 change, 2 faults of every kind, then restart-all";

    private static async Task<int> RunTestsAsync(string repo, string results, string? filter, IReadOnlyDictionary<string, string> environment, CancellationToken ct)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo };
        foreach (var a in new[] { "test", "Slipway.sln", "--no-build", "-c", "Debug", "--logger", "console;verbosity=normal", "--logger", "trx", "--results-directory", results })
            info.ArgumentList.Add(a);
        if (filter is not null) { info.ArgumentList.Add("--filter"); info.ArgumentList.Add(filter); }
        foreach (var (k, v) in environment) info.Environment[k] = v;
        using var tests = Process.Start(info)!;
        try { await tests.WaitForExitAsync(ct); }
        catch (OperationCanceledException) { tests.Kill(entireProcessTree: true); throw; }
        return tests.ExitCode;
    }
}
