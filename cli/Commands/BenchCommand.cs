using System.CommandLine;
using System.Diagnostics;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>`slipway bench [EVENTS]`: the messaging throughput benchmark on freshly started embedded Kafka and Postgres.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "bench-infra") };
        var events = new Argument<int>("events") { Description = "events per measurement", DefaultValueFactory = _ => 20_000 };
        var gateway = new Option<bool>("--gateway") { Description = "measure the gateway's ingest (Gerrit stand-in stream to Kafka) instead" };
        var pipeline = new Option<bool>("--pipeline") { Description = "measure the pipeline's overhead and latency on the demo's sample service instead" };
        var command = new Command("bench", "measure messaging throughput, or with --gateway the gateway's ingest, or with --pipeline the pipeline around the real work (see docs/benchmarks.md)")
        {
            state, events, gateway, pipeline,
        };
        command.SetAction(async (parse, ct) =>
        {
            var repo = RepoPaths.Root();
            var infra = InfraFactory.Create(parse.GetValue(state)!);
            try
            {
                if (!await DotnetBuild.BuildAsync(repo, "bench/Slipway.Bench/Slipway.Bench.csproj", "Release", ct)) return 1;
                // Only the pipeline benchmark builds and runs images.
                await infra.UpAsync(new Embedded.InfraUpOptions(SkipDocker: !parse.GetValue(pipeline)), ct);
                var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo };
                info.ArgumentList.Add(Path.Combine(repo, "bench", "Slipway.Bench", "bin", "Release", "net10.0", "Slipway.Bench.dll"));
                if (parse.GetValue(gateway)) info.ArgumentList.Add("gateway");
                if (parse.GetValue(pipeline)) info.ArgumentList.Add("pipeline");
                info.ArgumentList.Add(parse.GetValue(events).ToString());
                foreach (var (k, v) in InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
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
