using System.CommandLine;
using System.Diagnostics;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway test`: starts the embedded infrastructure in its own state directory (installing
/// missing Debian packages), builds, runs every test project with the infrastructure's settings
/// in the environment, and tears the infrastructure down, also when tests fail or are interrupted.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "test-infra") };
        var filter = new Option<string?>("--filter") { Description = "dotnet test --filter expression" };
        var command = new Command("test", "run all tests against freshly started embedded infrastructure") { state, filter };
        command.SetAction(async (parse, ct) =>
        {
            var repo = RepoPaths.Root();
            var infra = InfraFactory.Create(parse.GetValue(state)!);
            var results = Path.Combine(repo, "TestResults", "trx");
            var rerunResults = Path.Combine(repo, "TestResults", "trx-rerun");
            foreach (var dir in new[] { results, rerunResults })
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            IReadOnlyList<FailedTest> firstFailures = [], rerunFailures = [], flaky = [];
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
                Console.WriteLine(exitCode == 0 ? "tests passed" : $"tests failed (exit code {exitCode})");
                return exitCode;
            }
            finally
            {
                await infra.DownAsync(CancellationToken.None);
                if (flaky.Count > 0) TestFailureSummary.Print("flaky tests: failed, then passed when run again", flaky, Console.Out);
                else
                {
                    TestFailureSummary.Print("failed tests", firstFailures, Console.Out);
                    TestFailureSummary.Print("failed again when run alone", rerunFailures, Console.Out);
                }
            }
        });
        return command;
    }

    private const int MaxRerunMethods = 5;

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
