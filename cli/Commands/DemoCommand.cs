using System.CommandLine;
using Npgsql;
using Slipway.Cli.Stack;
using Slipway.Cli.Demo;
using Slipway.GerritStandIn.Samples;
using Slipway.Contracts;
using Slipway.Gerrit.Events;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway demo`: the main job on the embedded defaults. It brings up the infrastructure, the
/// Gerrit stand-in and the six services, and carries a sample service from patch set to
/// production (<see cref="DemoScenario"/>), printing the pipeline's events and Gerrit's comments as
/// they happen. Exits 0 only if every step it shows did what it said.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "demo") };
        var verbose = new Option<bool>("--verbose") { Description = "also show the services' logs on the terminal (they always go to files)" };
        var command = new Command("demo", "run the main job on the embedded defaults: a change carried from patch set to production") { state, verbose };
        command.SetAction(async (parse, ct) =>
        {
            // The terminal tells the story; the services' logs go to files (or here too, with --verbose).
            // Beside the state directory, which is removed when the demo ends: the logs outlive it.
            var stateDir = Path.GetFullPath(parse.GetValue(state)!);
            var logDir = parse.GetValue(verbose) ? null : Path.Combine(Path.GetDirectoryName(stateDir)!, Path.GetFileName(stateDir) + "-logs");
            await using var stack = await EmbeddedStack.TryStartAsync(parse.GetValue(state)!, keepInfra: false, ct, logDir, DemoCharts.PrepareAsync);
            if (stack is null) return 1;
            if (logDir is not null)
                Say($"services' logs: {logDir}/<service>.log (e.g. {stack.Services.LogFileOf("builder")}); --verbose shows them here");
            return await RunScenarioAsync(stack, ct) ? 0 : 1;
        });
        return command;
    }

    private static async Task<bool> RunScenarioAsync(EmbeddedStack stack, CancellationToken ct)
    {
        var topic = (stack.Environment.GetValueOrDefault("Kafka__TopicPrefix") ?? "") + Topics.PipelineEvents;
        await using var events = new PipelineWatcher(stack.Environment["Kafka__BootstrapServers"], topic);
        try
        {
            await new DemoScenario(stack, events).RunAsync(ct);
            await KeepDashboardAsync(stack, ct);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or DemoFailedException or HttpRequestException)
        {
            Say($"FAILED: {e.Message}");
            await KeepDashboardAsync(stack, ct);
            return false;
        }
        finally
        {
            await DeployedContainers.RemoveAsync(stack.Environment["Deployer__Docker__Owner"], CancellationToken.None);
        }
    }

    /// <summary>
    /// From a terminal, the stack stays up until Enter (or Ctrl+C), so the dashboard can be looked at; piped or in
    /// CI (stdin not a terminal) the demo ends at once.
    /// </summary>
    private static async Task KeepDashboardAsync(EmbeddedStack stack, CancellationToken ct)
    {
        if (Console.IsInputRedirected) return;
        var url = stack.Services.UrlOf("reporter");
        Say($"the dashboard stays up: {url}/ (runs), {url}/environments (what runs where). Press Enter to stop everything.");
        var enter = Task.Run(Console.ReadLine, CancellationToken.None);
        await Task.WhenAny(enter, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
    }

    private static void Say(string line) => ServiceStack.Print("demo", ConsoleColor.White, line);
}
