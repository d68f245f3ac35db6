using System.Diagnostics;
using Slipway.Contracts;

namespace Slipway.Bench.Chaos;

/// <summary>
/// `./slipway chaos`: trials of a stream of changes under seeded faults, on two instances of every service, each
/// checked for lost, duplicated and stuck effects. Trial t uses seed S+t (printed), so `--seed S+t --trials 1`
/// replays it. Exit code 0 only when nothing was lost, duplicated or stuck.
/// </summary>
public static class ChaosCampaign
{
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> infra, string postgresDir, string kafkaDir, int trials, int seed, int changes,
        IReadOnlyList<FaultKind> kinds, int faultsPerTrial, bool restartAll, bool concurrent)
    {
        Console.WriteLine($"chaos: {trials} trial(s), {changes} change(s) each{(concurrent ? " (concurrent)" : "")}, {faultsPerTrial} fault(s) per trial of [{string.Join(", ", kinds.Select(FaultKinds.Name))}], seed {seed}");
        var injected = new Dictionary<FaultKind, int>();
        var recovery = new Dictionary<FaultKind, List<double>>();
        var unrecovered = new Dictionary<FaultKind, int>();
        int runs = 0, lost = 0, duplicated = 0, stuck = 0, misordered = 0, failed = 0;
        ChaosStack started;
        try { started = await ChaosStack.StartAsync(infra); }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
        {
            Console.WriteLine($"summary: the stack did not start, no trial ran, seed {seed}");
            Console.WriteLine($"    stack error: {e.GetType().Name}: {e.Message}");
            return 1;
        }
        await using (var stack = started)
        {
            for (var t = 0; t < trials; t++)
            {
                var trialSeed = unchecked(seed + t);
                var clock = Stopwatch.StartNew();
                var (findings, faults, error) = await TrialAsync(stack, postgresDir, kafkaDir, trialSeed, changes, kinds, faultsPerTrial, restartAll, concurrent);
                var trialRecovery = new List<string>();
                foreach (var f in faults)
                {
                    injected[f.Kind] = injected.GetValueOrDefault(f.Kind) + 1;
                    // Recovery: from the fault's start to the first pipeline event seen after it ended.
                    if (stack.Recorder?.FirstSeenAfter(f.EndedUtc) is { } next)
                    {
                        var seconds = (next - f.StartedUtc).TotalSeconds;
                        (recovery.TryGetValue(f.Kind, out var list) ? list : recovery[f.Kind] = []).Add(seconds);
                        trialRecovery.Add($"{FaultKinds.Name(f.Kind)} {seconds:F1} s");
                    }
                    else
                    {
                        unrecovered[f.Kind] = unrecovered.GetValueOrDefault(f.Kind) + 1;
                        trialRecovery.Add($"{FaultKinds.Name(f.Kind)} no later event");
                    }
                }
                // Per trial too, so an interrupted campaign keeps its measurements.
                Console.WriteLine($"  recovery in trial seed {trialSeed}: {string.Join(", ", trialRecovery)}");
                runs += findings.Runs;
                lost += findings.Lost.Count;
                duplicated += findings.Duplicated.Count;
                misordered += findings.Misordered.Count;
                stuck += findings.Stuck.Count + (error is null ? 0 : 1);
                failed += findings.FailedRuns;
                Console.WriteLine($"trial {t + 1}/{trials} seed {trialSeed}: {findings.Runs} runs ({findings.FailedRuns} failed, {findings.SupersededDeploys} deploys superseded), " +
                                  $"faults [{string.Join(", ", faults.Select(f => $"{FaultKinds.Name(f.Kind)} {f.Target} @{f.AtSeconds:F0}s"))}], " +
                                  $"lost {findings.Lost.Count}, duplicated {findings.Duplicated.Count}, stuck {findings.Stuck.Count}, misordered {findings.Misordered.Count}, " +
                                  $"{clock.Elapsed.TotalSeconds:F0} s{(findings.Clean && error is null ? "" : "  FAILED")}");
                foreach (var l in findings.Lost) Console.WriteLine($"    lost: {l}");
                foreach (var d in findings.Duplicated) Console.WriteLine($"    duplicated: {d}");
                foreach (var s in findings.Stuck) Console.WriteLine($"    stuck: {s}");
                foreach (var m in findings.Misordered) Console.WriteLine($"    misordered: {m}");
                if (error is not null) Console.WriteLine($"    trial error: {error}");
            }
        }
        Console.WriteLine($"summary: trials {trials}, runs {runs} ({failed} failed), faults " +
                          $"{string.Join(", ", injected.OrderBy(k => k.Key).Select(k => $"{FaultKinds.Name(k.Key)} {k.Value}"))}, " +
                          $"lost {lost}, duplicated {duplicated}, stuck {stuck}, misordered {misordered}, seed {seed}");
        foreach (var kind in injected.Keys.Order())
        {
            var seconds = recovery.GetValueOrDefault(kind, []).Order().ToList();
            var none = unrecovered.GetValueOrDefault(kind);
            Console.WriteLine($"recovery {FaultKinds.Name(kind)}: " + (seconds.Count == 0 ? "no event followed" :
                $"{seconds.Count}× min {seconds[0]:F1} s, median {Median(seconds):F1} s, max {seconds[^1]:F1} s") +
                (none > 0 && seconds.Count > 0 ? $" ({none} with no later event)" : ""));
        }
        return lost == 0 && duplicated == 0 && stuck == 0 && misordered == 0 ? 0 : 1;
    }

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    private static async Task<(TrialFindings, IReadOnlyList<InjectedFault>, string?)> TrialAsync(ChaosStack stack, string postgresDir, string kafkaDir, int seed,
        int changes, IReadOnlyList<FaultKind> kinds, int faultsPerTrial, bool restartAll, bool concurrent)
    {
        var project = $"chaos/svc-{(uint)seed:x8}-{Guid.NewGuid().ToString("N")[..6]}";
        // Named before anything is deployed, so that whoever started the campaign can remove its containers and images
        // even when the campaign is killed mid-trial.
        if (Environment.GetEnvironmentVariable("Chaos__ProjectsFile") is { Length: > 0 } projects)
            await File.AppendAllTextAsync(projects, project + "\n");
        var driver = new ChangeDriver(stack, project, Console.WriteLine);
        var injector = new FaultInjector(stack, postgresDir, kafkaDir, Console.WriteLine);
        // About what a change's stream takes once the images are cached (patch set, recheck, merge, approval): faults
        // planned later than the stream would never be injected. Concurrent changes overlap: a few seconds more per change.
        var plan = FaultSchedule.Plan(seed, kinds, faultsPerTrial, TimeSpan.FromSeconds(concurrent ? 30 + 10 * (changes - 1) : 30 * changes));
        string? error = null;
        // Where a trial's time goes, printed under its line.
        var clock = Stopwatch.StartNew();
        var phases = new List<string>();
        void Phase(string name) { phases.Add($"{name} {clock.Elapsed.TotalSeconds:F0} s"); clock.Restart(); }
        using var stop = new CancellationTokenSource();
        var faults = injector.RunAsync(plan, stop.Token);
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(20 * changes));
            await driver.RunAsync(changes, concurrent, bound.Token);
        }
        catch (Exception e) { error = $"{e.GetType().Name}: {e.Message}"; }
        await stop.CancelAsync();
        await faults;
        Phase("stream");
        // The end of the stream: every instance killed and restarted, then left to finish.
        if (restartAll)
            await injector.RunAsync([new PlannedFault(FaultKind.RestartAll, TimeSpan.Zero, TimeSpan.Zero, 0)], CancellationToken.None);
        stack.Gerrit.BeAvailable();
        try { await stack.WaitUntilReadyAsync(TimeSpan.FromMinutes(3)); }
        catch (TimeoutException e) { error ??= e.Message; }
        Phase("restart-all and ready");
        try
        {
            await WaitUntilFinishedAsync(stack, project);
            Phase("finish (with 15 s settling)");
            var findings = await new EffectChecker(stack, project, driver.Service).CheckAsync(driver.Triggers, driver.RollbackRequested);
            Phase("check");
            return (findings, injector.Injected, error);
        }
        finally
        {
            await CleanUpAsync(project, driver.Service);
            Phase("clean-up");
            Console.WriteLine($"  phases of trial seed {seed}: {string.Join(", ", phases)}");
        }
    }

    /// <summary>Until every run of the project has finished and Gerrit's comments have settled; bounded.</summary>
    private static async Task WaitUntilFinishedAsync(ChaosStack stack, string project)
    {
        var deadline = DateTime.UtcNow + FinishTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var events = stack.Events;
            var started = events.Where(e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger.Project == project)
                .Select(e => e.RunId).ToHashSet();
            var finished = events.Where(e => e.Type == EventTypes.NameOf<RunFinished>()).Select(e => e.RunId).ToHashSet();
            if (started.IsSubsetOf(finished)) break;
            await Task.Delay(1000);
        }
        await Task.Delay(TimeSpan.FromSeconds(15)); // final comments and a late duplicate have time to land
    }

    /// <summary>The trial's deployed containers and built images go; the registry and Gerrit state go with the stack.</summary>
    private static async Task CleanUpAsync(string project, string service)
    {
        var ids = await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["ps", "-aq", "--filter", $"label=slipway.service={service}"]);
        var list = ids.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length > 0) await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["rm", "-f", .. list]);
        var images = await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["images", "-q", "--filter", $"label=slipway.project={project}"]);
        var imageIds = images.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        if (imageIds.Length > 0) await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["rmi", "-f", .. imageIds]);
    }
}
