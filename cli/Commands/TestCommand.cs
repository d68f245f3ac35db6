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
            if (Directory.Exists(results)) Directory.Delete(results, recursive: true);
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
                var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo };
                foreach (var a in new[] { "test", "Slipway.sln", "--no-build", "-c", "Debug", "--logger", "console;verbosity=normal", "--logger", "trx", "--results-directory", results })
                    info.ArgumentList.Add(a);
                if (parse.GetValue(filter) is { } f) { info.ArgumentList.Add("--filter"); info.ArgumentList.Add(f); }
                foreach (var (k, v) in InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
                using var tests = Process.Start(info)!;
                try { await tests.WaitForExitAsync(ct); }
                catch (OperationCanceledException) { tests.Kill(entireProcessTree: true); throw; }
                Console.WriteLine(tests.ExitCode == 0 ? "tests passed" : $"tests failed (exit code {tests.ExitCode})");
                return tests.ExitCode;
            }
            finally
            {
                await infra.DownAsync(CancellationToken.None);
                TestFailureSummary.Print(results, Console.Out);
            }
        });
        return command;
    }
}
