using Slipway.Bench;

// `Slipway.Bench [all|messaging|gateway|pipeline|scale|memory] [--quick] [EVENTS]` (./slipway bench passes these), or `chaos ...`.
// Needs Kafka__BootstrapServers and Postgres__ConnectionString, and for the pipeline the registry and base image
// (./slipway bench sets them). Every measurement is bounded in count and time; --quick shrinks them to a smoke run.
// Started by `./slipway bench`, `chaos` or `test` (SLIPWAY_PARENT_PID): ends with that process, also when it was killed with
// SIGKILL. Nothing is left to clean up here: the services it started watch the same process and stop on their own, the
// Gerrit stand-in's sshd goes with this process, and the starter's reaper downs the infrastructure and the deployed containers.
if (Slipway.Hosting.Lifetime.ParentProcess.FromEnvironment() is { } starter)
    _ = Task.Run(async () =>
    {
        await starter.WaitForExitAsync(Slipway.Hosting.Lifetime.ParentExitWatch.Interval, CancellationToken.None);
        Console.Error.WriteLine($"bench: the process that started it (pid {starter.Pid}) is gone: exiting");
        Environment.Exit(3);
    });
if (args.Length > 0 && args[0] == "chaos") return await Slipway.Bench.Chaos.ChaosArguments.RunAsync(args[1..]);
var mode = args.Length > 0 && !args[0].StartsWith("--") && !char.IsDigit(args[0][0]) ? args[0] : "messaging";
var quick = args.Contains("--quick");
var events = args.Where(a => a.Length > 0 && char.IsDigit(a[0])).Select(int.Parse).Cast<int?>().FirstOrDefault();
var bootstrap = Environment.GetEnvironmentVariable("Kafka__BootstrapServers") ?? throw new InvalidOperationException("Kafka__BootstrapServers not set");
var postgres = Environment.GetEnvironmentVariable("Postgres__ConnectionString") ?? throw new InvalidOperationException("Postgres__ConnectionString not set");
if (mode is not ("all" or "messaging" or "gateway" or "pipeline" or "scale" or "memory"))
{
    Console.Error.WriteLine($"unknown benchmark '{mode}' (want all, messaging, gateway, pipeline, scale or memory)");
    return 2;
}

var table = new BenchTable();
var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average at start: {load}{(quick ? ", quick run" : "")}");
if (mode is "all" or "messaging")
{
    // Each lever added in turn, one after the other in the same minutes (the shared machine's load moves): the first
    // line is the host as it was before the levers of 2026-11-28, the last is the shipped defaults (consumer batches of
    // 1,000 and Npgsql auto-prepare since 2026-11-29) with a handler that defers its own row (MessageContext.Writes).
    // The probe runs with the services' runtime settings (workstation GC, no instrumented JIT tier, a 4 MB young
    // generation), is warmed up until its JIT has compiled the hot path, then measured three times (the median counts).
    var count = events ?? (quick ? 5_000 : 20_000);
    var noAutoPrepare = new Dictionary<string, string> { ["Postgres__MaxAutoPrepare"] = "0" };
    Dictionary<string, string> With(params (string Key, string Value)[] settings) =>
        new(noAutoPrepare.Concat(settings.Select(x => KeyValuePair.Create(x.Key, x.Value))));
    (string Name, Dictionary<string, string> Settings)[] variants =
    [
        ("handler's own insert per event, relay batches of 500", With(("Probe__DeferWrites", "false"), ("Kafka__RelayBatchSize", "500"), ("Kafka__MaxBatchSize", "200"))),
        ("+ handler's row deferred to the batch's end", With(("Probe__DeferWrites", "true"), ("Kafka__RelayBatchSize", "500"), ("Kafka__MaxBatchSize", "200"))),
        ("+ relay batches of 2,000", With(("Probe__DeferWrites", "true"), ("Kafka__MaxBatchSize", "200"))),
        ("+ consumer batches of 1,000", With(("Probe__DeferWrites", "true"))),
        ("+ Npgsql auto-prepare: as shipped", new() { ["Probe__DeferWrites"] = "true" }),
    ];
    var rates = new List<double>();
    foreach (var (name, settings) in variants)
    {
        Console.WriteLine($"messaging host, {name}:");
        rates.Add(await MessagingHostBench.RunAsync(bootstrap, postgres, count, settings));
    }
    Console.WriteLine("messaging host, end to end, each lever in turn:");
    for (var i = 0; i < variants.Length; i++)
        Console.WriteLine($"  {variants[i].Name,-60} {rates[i],9:N0} events/s  {rates[i] / rates[0],5:F2}x");
    var best = rates.Max();
    table.Set("host", $"{rates[^1]:N0} events/s as shipped (best variant {best:N0}; handler's own insert per event and relay batches of 500: {rates[0]:N0} events/s)", rates[^1] >= 20_000);
}
if (mode is "all" or "gateway")
{
    // One transaction per line first (the gateway before batching), then batches of at most 1,024 (the default of 2026-11-28/29), then the default (256): the
    // lever's before and after. Each measures a windowed run (at most 100 lines unwritten) and a replay (as fast as the
    // stream takes it).
    var count = events ?? (quick ? 1_000 : 5_000);
    (string Name, Dictionary<string, string> Settings)[] variants =
    [
        ("one transaction per stream line (Gateway:StreamBatchMaxLines=1)", new() { ["Gateway__StreamBatchMaxLines"] = "1" }),
        ("the lines waiting written together, at most 1,024 (Gateway:StreamBatchMaxLines=1024)", new() { ["Gateway__StreamBatchMaxLines"] = "1024" }),
        ("the lines waiting written together (the default, at most 256)", []),
    ];
    var rates = new List<GatewayIngestBench.GatewayIngestRates>();
    foreach (var (name, settings) in variants)
    {
        Console.WriteLine($"gateway with {name}:");
        rates.Add(await GatewayIngestBench.RunAsync(bootstrap, postgres, count, paced: quick ? 200 : 1_000, settings));
    }
    Console.WriteLine("gateway ingest, events/s (windowed / replayed):");
    for (var i = 0; i < variants.Length; i++)
        Console.WriteLine($"  {variants[i].Name,-90} {rates[i].Windowed,9:N0} / {rates[i].Replayed,9:N0}");
    var rate = rates[2].Replayed;
    table.Set("gateway", $"{rate:N0} events/s replayed as the stream takes it, {rates[2].Windowed:N0} events/s with at most 100 unwritten " +
        $"(one transaction per line: {rates[0].Replayed:N0} / {rates[0].Windowed:N0} events/s)", rate >= 10_000);
}
if (mode is "all" or "pipeline")
{
    var infra = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .Where(e => ((string)e.Key).Contains("__")).ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    await PipelineBench.RunAsync(infra, table, repetitions: quick ? 3 : 10, burst: quick ? 5 : 20);
}
if (mode is "all" or "scale")
{
    var infra = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .Where(e => ((string)e.Key).Contains("__")).ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    await HopAtScaleBench.RunAsync(infra, table, repetitions: quick ? 3 : 10);
}
if (mode is "memory")
{
    // Each --variant=NAME:KEY=VALUE,KEY=VALUE runs after the services as shipped, with that environment added.
    var variants = args.Where(a => a.StartsWith("--variant=", StringComparison.Ordinal)).Select(a => a["--variant=".Length..].Split(':', 2))
        .Select(v => (v[0], (IReadOnlyDictionary<string, string>)(v.Length < 2 ? new Dictionary<string, string>()
            : v[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : ""))))
        .ToList();
    var infra = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .Where(e => ((string)e.Key).Contains("__")).ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    await MemoryBench.RunAsync(infra, table, burst: events ?? (quick ? 5 : 20), variants);
}
Console.WriteLine($"load average at end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown")}");
table.Print(Console.Out);
return 0;
