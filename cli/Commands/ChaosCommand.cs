using System.CommandLine;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway chaos [--trials N] [--seed S] [--changes K] [--concurrent]`: the fault campaign (bench/Slipway.Bench/Chaos) on freshly
/// started embedded infrastructure, torn down afterwards, also on failure.
/// </summary>
internal static class ChaosCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "chaos-infra") };
        var trials = new Option<int>("--trials") { Description = "trials (1..1000)", DefaultValueFactory = _ => 1 };
        var seed = new Option<int?>("--seed") { Description = "seed of the first trial (trial t uses seed+t); random when absent, always printed" };
        var changes = new Option<int>("--changes") { Description = "changes per trial (1..20)", DefaultValueFactory = _ => 2 };
        var faults = new Option<int>("--faults") { Description = "faults drawn per trial (0..50)", DefaultValueFactory = _ => 3 };
        var concurrent = new Option<bool>("--concurrent") { Description = "drive each trial's changes at once, overlapping (default: one after the other)" };
        var kinds = new Option<string>("--kinds") { Description = "fault kinds to draw from, comma-separated", DefaultValueFactory = _ => ChaosCampaignRun.AllFaults };
        var command = new Command("chaos", "the fault campaign: changes driven through two instances of every service under seeded faults; " +
                                           "checks Gerrit comments, registry tags, config commits and containers (see docs/reliability.md)")
        {
            state, trials, seed, changes, faults, kinds, concurrent,
        };
        command.SetAction(async (parse, ct) =>
        {
            var chosenSeed = parse.GetValue(seed) ?? Random.Shared.Next();
            // A long campaign is bounded too: 25 minutes per trial is far beyond what a trial's own waits allow.
            var outcome = await ChaosCampaignRun.RunAsync(RepoPaths.Root(), Path.GetFullPath(parse.GetValue(state)!), parse.GetValue(trials), chosenSeed,
                parse.GetValue(changes), parse.GetValue(faults), parse.GetValue(kinds)!,
                TimeSpan.FromMinutes(25.0 * parse.GetValue(trials) * Math.Max(1, parse.GetValue(changes))), "Release", build: true,
                parse.GetValue(concurrent), ct);
            if (outcome.ExitCode != 0) Console.WriteLine($"chaos: failed; replay with --seed {chosenSeed}{(parse.GetValue(concurrent) ? " --concurrent" : "")}");
            return outcome.ExitCode;
        });
        return command;
    }
}
