using System.CommandLine;
using System.Diagnostics;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway bench [EVENTS] [--messaging|--gateway|--pipeline|--scale|--memory [--variant NAME:K=V,..]] [--quick]`: on freshly started embedded infrastructure, all of
/// issue 13's figures (or one part) side by side with the same work by hand, ending with the table.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "bench-infra") };
        var events = new Argument<int?>("events") { Description = "events per throughput measurement (default 20,000 for the host, 5,000 for the gateway)" };
        var messaging = new Option<bool>("--messaging") { Description = "only the messaging host's throughput" };
        var gateway = new Option<bool>("--gateway") { Description = "only the gateway's ingest (Gerrit stand-in stream to Kafka)" };
        var pipeline = new Option<bool>("--pipeline") { Description = "only the pipeline against the same work by hand, on the demo's sample service" };
        var scale = new Option<bool>("--scale") { Description = "only the hop latency with 100,000 finished runs in every table, over empty tables" };
        var memory = new Option<bool>("--memory") { Description = "only where each service's memory goes during a burst of EVENTS changes (default 20), as shipped and with each --variant" };
        var variant = new Option<string[]>("--variant") { Description = "with --memory: NAME:KEY=VALUE,KEY=VALUE, environment added to the six services for one more run" };
        var quick = new Option<bool>("--quick") { Description = "a smoke run: fewer events, repetitions and changes (a few minutes)" };
        var command = new Command("bench", "measure issue 13's figures (the pipeline against the same work by hand, the gateway, the messaging host) and print its table (see docs/benchmarks.md)")
        {
            state, events, messaging, gateway, pipeline, scale, memory, variant, quick,
        };
        command.SetAction(async (parse, ct) =>
        {
            var repo = RepoPaths.Root();
            // Tied to this process: a killed bench (even by SIGKILL) leaves none of its infrastructure running.
            var deployedOwner = PipelineSettings.OwnerOf(parse.GetValue(state)!);
            var infra = InfraFactory.CreateTiedToThisProcess(parse.GetValue(state)!, deployedOwner);
            try
            {
                if (!await DotnetBuild.BuildAsync(repo, "bench/Slipway.Bench/Slipway.Bench.csproj", "Release", ct)) return 1;
                var mode = parse.GetValue(memory) ? "memory" : parse.GetValue(scale) ? "scale" : parse.GetValue(pipeline) ? "pipeline" : parse.GetValue(gateway) ? "gateway" : parse.GetValue(messaging) ? "messaging" : "all";
                // Only the pipeline benchmark builds and runs images.
                await infra.UpAsync(new Embedded.InfraUpOptions(SkipDocker: mode is "messaging" or "gateway"), ct);
                var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo };
                info.ArgumentList.Add(Path.Combine(repo, "bench", "Slipway.Bench", "bin", "Release", "net10.0", "Slipway.Bench.dll"));
                info.ArgumentList.Add(mode);
                if (parse.GetValue(quick)) info.ArgumentList.Add("--quick");
                if (parse.GetValue(events) is { } n) info.ArgumentList.Add(n.ToString());
                foreach (var v in parse.GetValue(variant) ?? []) info.ArgumentList.Add("--variant=" + v);
                foreach (var (k, v) in InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
                // The services the bench starts inherit both: they stop once this process is gone, and label what they deploy.
                foreach (var (k, v) in Slipway.Hosting.Lifetime.ParentProcess.ChildEnvironment()) info.Environment[k] = v;
                info.Environment["Deployer__Docker__Owner"] = deployedOwner;
                info.Environment["Tester__Owner"] = deployedOwner;
                using var bench = Process.Start(info)!;
                await bench.WaitForExitAsync(ct);
                return bench.ExitCode;
            }
            finally
            {
                await infra.DownAsync(CancellationToken.None);
            }
        });
        return command;
    }
}
