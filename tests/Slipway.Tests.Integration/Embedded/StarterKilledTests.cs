using System.Diagnostics;
using System.Text;
using Slipway.Embedded;
using Slipway.Hosting.Lifetime;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>
/// Nothing outlives its starter: `slipway infra run` (the way `slipway test` and `slipway up` tie their stack to themselves)
/// starts the embedded infrastructure and a service process, is killed with SIGKILL, and everything it started goes, the
/// containers labelled with the stack's deployer owner included; another owner's container on the same engine stays.
/// </summary>
public sealed class StarterKilledTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_the_starter_with_SIGKILL_stops_its_service_the_kafka_host_postgres_and_the_reaper_and_removes_its_deployed_containers()
    {
        var stateDir = Path.Combine(Path.GetTempPath(), TestInfrastructure.UniqueName("slipway-starter-"));
        var port = FreePort.Next();
        var image = Environment.GetEnvironmentVariable("Slipway__BaseImage") is { Length: > 0 } b
            ? b : throw new InvalidOperationException("Slipway__BaseImage is not set: run the tests through `./slipway test`");
        // A deployed container of the stack (made with the owner `infra run` gives its command, as its deployer would label
        // one), and one of another stack on the same engine.
        var ownContainer = TestInfrastructure.UniqueName("slipway-reaped-");
        var foreignContainer = TestInfrastructure.UniqueName("slipway-kept-");
        var foreignOwner = TestInfrastructure.UniqueName("stack-other");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     TestInfrastructure.ProjectDll("cli", "slipway"), "infra", "run", "--state", stateDir, "--skip-docker", "--",
                     "sh", "-c", "docker create --label slipway.owner=\"$Deployer__Docker__Owner\" --name \"$1\" \"$2\" true >/dev/null && exec dotnet \"$3\"",
                     "sh", ownContainer, image, TestInfrastructure.ProjectDll("dev/Slipway.Tests.ProbeService", "Slipway.Tests.ProbeService"),
                 })
            info.ArgumentList.Add(a);
        // Only what infra.env and this test give: not the settings of the infrastructure this test host runs against.
        foreach (var key in info.Environment.Keys.Where(k => k.Contains("__") || k.StartsWith("SLIPWAY_PARENT", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Probe__Schema"] = TestInfrastructure.UniqueName("probe_");

        var output = new StringBuilder();
        var started = new List<(string What, ParentProcess Process)>();
        using var starter = Process.Start(info)!;
        starter.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        starter.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        starter.BeginOutputReadLine();
        starter.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            await DockerAsync("create", "--label", $"{DeployedContainerSweep.OwnerLabel}={foreignOwner}", "--name", foreignContainer, image, "true");
            await WaitUntilAnsweringAsync(port, starter, Output);
            Assert.Equal([ownContainer], await ContainersNamedAsync(ownContainer));

            // Everything it started, each named by pid and start time (a reused pid is not mistaken for a survivor).
            var state = InfraState.Load(Path.Combine(stateDir, "state.json"));
            var postmaster = int.Parse(File.ReadLines(new PostgresCluster(Path.Combine(stateDir, "postgres")).DataDir + "/postmaster.pid").First());
            var probe = ChildrenOf(starter.Id).Single(pid => CommandLine(pid).Contains("Slipway.Tests.ProbeService", StringComparison.Ordinal));
            var reaper = AllPids().Single(pid => CommandLine(pid) is var c && c.Contains("infra reap", StringComparison.Ordinal) && c.Contains(stateDir, StringComparison.Ordinal));
            foreach (var (what, pid) in new[] { ("probe service", probe), ("kafka host", state.Kafka!.Pid), ("postgres", postmaster), ("reaper", reaper) })
                started.Add((what, new ParentProcess(pid, ParentProcess.StartTimeOf(pid) ?? throw new InvalidOperationException($"{what} (pid {pid}) is not running:\n{Output()}"))));

            starter.Kill(); // SIGKILL: no finally, no DisposeAsync, no signal handler of the starter runs

            var deadline = DateTime.UtcNow + Bound;
            while (started.Any(s => s.Process.IsAlive) && DateTime.UtcNow < deadline) await Task.Delay(250);
            var survivors = started.Where(s => s.Process.IsAlive).Select(s => $"{s.What} (pid {s.Process.Pid})").ToList();
            Assert.True(survivors.Count == 0, $"still running {Bound.TotalSeconds} s after the starter was killed: {string.Join(", ", survivors)}\n{Output()}\n{ReaperLog(stateDir)}");
            // Stopped gracefully, not killed: the service said why, and the reaper's `infra down` removed the state directory.
            Assert.Contains($"parent process {starter.Id} is gone: stopping", Output());
            Assert.False(Directory.Exists(stateDir), $"{stateDir} is still there:\n{ReaperLog(stateDir)}");
            // The reaper removed the stack's deployed container before `infra down`, and only that one.
            Assert.True((await ContainersNamedAsync(ownContainer)).Count == 0, $"{ownContainer} is still there:\n{ReaperLog(stateDir)}");
            Assert.Equal([foreignContainer], await ContainersNamedAsync(foreignContainer));
        }
        finally
        {
            await ProcessRunner.RunAsync("docker", ["rm", "-f", ownContainer, foreignContainer]);
            if (!starter.HasExited) starter.Kill(entireProcessTree: true);
            foreach (var (what, process) in started.Where(s => s.Process.IsAlive))
            {
                if (what == "postgres") await new PostgresCluster(Path.Combine(stateDir, "postgres")).StopAsync();
                else Posix.Kill(process.Pid, Posix.SIGKILL);
            }
            if (Directory.Exists(stateDir)) await ProcessRunner.RunAsync("rm", ["-rf", "--one-file-system", stateDir]);
            File.Delete(stateDir + ".reaper.log");
        }
    }

    private static async Task DockerAsync(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("docker", args);
        if (!result.Succeeded) throw new InvalidOperationException($"docker {string.Join(' ', args)} failed: {result.Tail(3)}");
    }

    /// <summary>The containers, running or not, named exactly <paramref name="name"/>.</summary>
    private static async Task<List<string>> ContainersNamedAsync(string name)
    {
        var result = await ProcessRunner.RunAsync("docker", ["ps", "-a", "--filter", $"name=^{name}$", "--format", "{{.Names}}"]);
        if (!result.Succeeded) throw new InvalidOperationException($"docker ps failed: {result.Tail(3)}");
        return result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static async Task WaitUntilAnsweringAsync(int port, Process starter, Func<string> output)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            if (starter.HasExited) throw new InvalidOperationException($"the starter exited with {starter.ExitCode}:\n{output()}");
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the service did not answer within 180 s:\n{output()}");
    }

    private static IEnumerable<int> ChildrenOf(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse);

    private static IEnumerable<int> AllPids() =>
        Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!));

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static string ReaperLog(string stateDir) =>
        File.Exists(stateDir + ".reaper.log") ? "reaper log:\n" + File.ReadAllText(stateDir + ".reaper.log") : "no reaper log";
}
