using System.CommandLine;
using System.Diagnostics;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway chaos [--trials N] [--seed S] [--changes K]`: the fault campaign (bench/Slipway.Bench/Chaos) on freshly
/// started embedded infrastructure, torn down afterwards, also on failure.
/// </summary>
internal static class ChaosCommand
{
    private const string AllFaults =
        "kill-random,kill-after-gerrit-post,kill-mid-publish,kill-mid-build,kill-mid-rollout,kill-awaiting-approval,postgres-restart,gerrit-503,ssh-cut,restart-all";

    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "chaos-infra") };
        var trials = new Option<int>("--trials") { Description = "trials (1..1000)", DefaultValueFactory = _ => 1 };
        var seed = new Option<int?>("--seed") { Description = "seed of the first trial (trial t uses seed+t); random when absent, always printed" };
        var changes = new Option<int>("--changes") { Description = "changes per trial (1..20)", DefaultValueFactory = _ => 2 };
        var faults = new Option<int>("--faults") { Description = "faults drawn per trial (0..50)", DefaultValueFactory = _ => 3 };
        var kinds = new Option<string>("--kinds") { Description = "fault kinds to draw from, comma-separated", DefaultValueFactory = _ => AllFaults };
        var command = new Command("chaos", "the fault campaign: changes driven through two instances of every service under seeded faults; " +
                                           "checks Gerrit comments, registry tags, config commits and containers (see docs/reliability.md)")
        {
            state, trials, seed, changes, faults, kinds,
        };
        command.SetAction(async (parse, ct) =>
        {
            var repo = RepoPaths.Root();
            var stateDir = Path.GetFullPath(parse.GetValue(state)!);
            var infra = InfraFactory.Create(stateDir);
            var chosenSeed = parse.GetValue(seed) ?? Random.Shared.Next();
            try
            {
                if (!await DotnetBuild.BuildAsync(repo, "bench/Slipway.Bench/Slipway.Bench.csproj", "Release", ct)) return 1;
                await infra.UpAsync(new Embedded.InfraUpOptions(), ct);
                var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo };
                info.ArgumentList.Add(Path.Combine(repo, "bench", "Slipway.Bench", "bin", "Release", "net10.0", "Slipway.Bench.dll"));
                foreach (var a in new[] { "chaos", parse.GetValue(trials).ToString(), chosenSeed.ToString(), parse.GetValue(changes).ToString(),
                             parse.GetValue(faults).ToString(), parse.GetValue(kinds)! })
                    info.ArgumentList.Add(a);
                foreach (var (k, v) in InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
                info.Environment["Chaos__PostgresDir"] = Path.Combine(stateDir, "postgres");
                using var campaign = Process.Start(info)!;
                try { await campaign.WaitForExitAsync(ct); }
                finally { if (!campaign.HasExited) campaign.Kill(entireProcessTree: true); }
                if (campaign.ExitCode != 0) Console.WriteLine($"chaos: failed; replay with --seed {chosenSeed}");
                return campaign.ExitCode;
            }
            finally
            {
                await infra.DownAsync(CancellationToken.None);
            }
        });
        return command;
    }
}
