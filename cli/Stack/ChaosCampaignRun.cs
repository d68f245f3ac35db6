using System.Diagnostics;

namespace Slipway.Cli.Stack;

/// <summary>The outcome of one campaign: its exit code, its seed and the lines worth repeating in a final summary.</summary>
internal sealed record ChaosOutcome(int ExitCode, int Seed, IReadOnlyList<string> Findings);

/// <summary>
/// The fault campaign (bench/Slipway.Bench/Chaos) on freshly started embedded infrastructure of its own state directory,
/// torn down afterwards, also on failure or timeout. Shared by `slipway chaos` and the short campaign of `slipway test`.
/// The dockerd it finds running (the machine's, or the one `slipway test` started) is used and left alone.
/// </summary>
internal static class ChaosCampaignRun
{
    public const string AllFaults =
        "kill-random,kill-after-gerrit-post,kill-after-produce,kill-mid-publish,kill-mid-build,kill-mid-rollout,kill-awaiting-approval," +
        "postgres-restart,gerrit-503,ssh-cut,kafka-broker-down,registry-down,kill-after-config-commit,restart-all";

    /// <param name="configuration">the build the bench and the services run from; `slipway test` passes Debug, which its
    /// solution build has just made, and skips the build (<paramref name="build"/> false)</param>
    /// <param name="concurrent">each trial's changes driven all at once (overlapping) instead of one after the other</param>
    public static async Task<ChaosOutcome> RunAsync(string repo, string stateDir, int trials, int seed, int changes, int faults, string kinds,
        TimeSpan timeout, string configuration, bool build, bool concurrent, CancellationToken ct)
    {
        var findings = new List<string>();
        // Tied to this process: a killed `slipway chaos` or `slipway test` (even by SIGKILL) leaves none of the campaign's
        // infrastructure running; the reaper also removes the containers the campaign's deployers labelled with this owner.
        var deployedOwner = PipelineSettings.OwnerOf(stateDir);
        var infra = InfraFactory.CreateTiedToThisProcess(stateDir, deployedOwner);
        try
        {
            if (build && !await DotnetBuild.BuildAsync(repo, "bench/Slipway.Bench/Slipway.Bench.csproj", configuration, ct))
                return new ChaosOutcome(1, seed, ["chaos: the bench did not build"]);
            await infra.UpAsync(new Embedded.InfraUpOptions(), ct);
            var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true };
            info.ArgumentList.Add(Path.Combine(repo, "bench", "Slipway.Bench", "bin", configuration, "net10.0", "Slipway.Bench.dll"));
            foreach (var a in new[] { "chaos", trials.ToString(), seed.ToString(), changes.ToString(), faults.ToString(), kinds,
                         concurrent ? "concurrent" : "sequential" })
                info.ArgumentList.Add(a);
            foreach (var (k, v) in InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
            // The campaign's service instances inherit both: they stop once this process is gone, and label what they deploy.
            foreach (var (k, v) in Slipway.Hosting.Lifetime.ParentProcess.ChildEnvironment()) info.Environment[k] = v;
            info.Environment["Deployer__Docker__Owner"] = deployedOwner;
            info.Environment["Tester__Owner"] = deployedOwner;
            info.Environment["Chaos__PostgresDir"] = Path.Combine(stateDir, "postgres");
            info.Environment["Chaos__KafkaDir"] = Path.Combine(stateDir, "kafka");
            info.Environment["Chaos__Configuration"] = configuration;
            info.Environment["Chaos__ProjectsFile"] = ProjectsFile(stateDir);
            // The campaign's temporary directories (stack work dirs, the Gerrit stand-in) under the state directory, so
            // that they go with it even when the campaign is killed.
            Directory.CreateDirectory(TempDir(stateDir));
            info.Environment["TMPDIR"] = TempDir(stateDir);
            using var campaign = Process.Start(info)!;
            // Echoed as it comes; the per-trial lines, the findings and the summary are kept for the caller's summary.
            campaign.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not { } line) return;
                Console.WriteLine(line);
                if (line.StartsWith("trial ", StringComparison.Ordinal) || line.StartsWith("summary:", StringComparison.Ordinal)
                    || line.StartsWith("recovery ", StringComparison.Ordinal) || line.StartsWith("    ", StringComparison.Ordinal))
                    lock (findings) findings.Add(line.Trim());
            };
            campaign.BeginOutputReadLine();
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(timeout);
            try { await campaign.WaitForExitAsync(bound.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                lock (findings) findings.Add($"chaos: timed out after {timeout.TotalMinutes:F0} min");
            }
            finally
            {
                if (!campaign.HasExited)
                {
                    campaign.Kill(entireProcessTree: true);
                    await campaign.WaitForExitAsync(CancellationToken.None);
                }
            }
            var exitCode = campaign.ExitCode == 0 ? 0 : Math.Max(1, campaign.ExitCode);
            lock (findings) return new ChaosOutcome(exitCode, seed, findings.ToList());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lock (findings) findings.Add($"chaos: {e.GetType().Name}: {e.Message}");
            return new ChaosOutcome(1, seed, findings.ToList());
        }
        finally
        {
            await RemoveTrialContainersAsync(stateDir);
            // The trials' stacks kill their services: what their testers and deployers left carries the campaign's owner.
            await DeployedContainers.RemoveAsync(deployedOwner, CancellationToken.None);
            await infra.DownAsync(CancellationToken.None);
            try { if (Directory.Exists(TempDir(stateDir))) Directory.Delete(TempDir(stateDir), recursive: true); }
            catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string TempDir(string stateDir) => Path.Combine(stateDir, "tmp");
    private static string ProjectsFile(string stateDir) => Path.Combine(TempDir(stateDir), "projects.txt");

    /// <summary>
    /// The deployed containers and built images of every trial the campaign named (a campaign that finishes removes
    /// them itself; one killed mid-trial does not). Only these projects' own labels: other runs' containers stay.
    /// </summary>
    private static async Task RemoveTrialContainersAsync(string stateDir)
    {
        if (!File.Exists(ProjectsFile(stateDir))) return;
        foreach (var project in (await File.ReadAllLinesAsync(ProjectsFile(stateDir))).Where(p => p.StartsWith("chaos/svc-", StringComparison.Ordinal)).Distinct())
        {
            var containers = await Embedded.ProcessRunner.RunAsync("docker", ["ps", "-aq", "--filter", $"label=slipway.service={project.Split('/')[^1]}"], timeout: TimeSpan.FromMinutes(2));
            var ids = containers.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length > 0) await Embedded.ProcessRunner.RunAsync("docker", ["rm", "-f", .. ids], timeout: TimeSpan.FromMinutes(2));
            var images = await Embedded.ProcessRunner.RunAsync("docker", ["images", "-q", "--filter", $"label=slipway.project={project}"], timeout: TimeSpan.FromMinutes(2));
            var imageIds = images.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
            if (imageIds.Length > 0) await Embedded.ProcessRunner.RunAsync("docker", ["rmi", "-f", .. imageIds], timeout: TimeSpan.FromMinutes(2));
        }
    }
}
