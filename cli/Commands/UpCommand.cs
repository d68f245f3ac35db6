using System.CommandLine;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>`slipway up`: the embedded infrastructure and the six services, logs interleaved, until Ctrl-C.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => RepoPaths.DefaultStateDir() };
        var keepInfra = new Option<bool>("--keep-infra") { Description = "leave the infrastructure running on exit" };
        var command = new Command("up", "start the embedded infrastructure and the six services; Ctrl-C stops everything")
        {
            state, keepInfra,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var signal = new ShutdownSignal();
            await using var stack = await EmbeddedStack.TryStartAsync(parse.GetValue(state)!, parse.GetValue(keepInfra), ct);
            if (stack is null) return 1;
            ServiceStack.Print("slipway", ConsoleColor.White, "all services ready:");
            foreach (var (name, port) in stack.Services.Endpoints)
                ServiceStack.Print("slipway", ConsoleColor.White, $"  {name,-15} http://127.0.0.1:{port}/_info");
            foreach (var key in new[] { "Kafka__BootstrapServers", "Registry__Url" })
                if (stack.Environment.TryGetValue(key, out var value))
                    ServiceStack.Print("slipway", ConsoleColor.White, $"  {key.Replace("__", ":"),-24} {value}");
            ServiceStack.Print("slipway", ConsoleColor.White, "Ctrl-C stops everything");

            var stopped = signal.WaitAsync(ct);
            while (!stopped.IsCompleted)
            {
                if (stack.Services.AnyExited(out var name))
                {
                    ServiceStack.Print("slipway", ConsoleColor.Red, $"{name} exited; stopping everything");
                    return 1;
                }
                await Task.WhenAny(stopped, Task.Delay(1000, CancellationToken.None));
            }
            ServiceStack.Print("slipway", ConsoleColor.White, "stopping...");
            return 0;
        });
        return command;
    }
}
