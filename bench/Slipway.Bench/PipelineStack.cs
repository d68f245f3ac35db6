using Slipway.Embedded;
using System.Diagnostics;
using System.Security.Cryptography;
using Confluent.Kafka;
using Slipway.Contracts;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Bench;

/// <summary>
/// The six services as processes (Release build) against a Gerrit stand-in and the embedded infrastructure, with
/// their own topic prefix and schemas, and a recorder of <c>pipeline.events</c>. Everything it starts, it stops.
/// </summary>
public sealed class PipelineStack : IAsyncDisposable
{
    private static readonly (string Dir, string Assembly)[] Services =
    [
        ("gerrit-gateway", "Slipway.GerritGateway"), ("builder", "Slipway.Builder"), ("tester", "Slipway.Tester"),
        ("publisher", "Slipway.Publisher"), ("deployer", "Slipway.Deployer"), ("reporter", "Slipway.Reporter"),
    ];

    private readonly List<(string Service, Process Process)> _processes = [];
    private readonly Dictionary<string, string> _urls = [];
    private readonly List<EventEnvelope> _events = [];
    private readonly List<EventEnvelope> _gerritEvents = [];
    // When each recorded event was handed to its producer (the Kafka message's create time): the outbox relay's produce.
    private readonly Dictionary<string, DateTimeOffset> _produced = [];
    private readonly CancellationTokenSource _stop = new();
    private Thread? _recorder;

    public required StandIn Gerrit { get; init; }
    public required string Prefix { get; init; }
    public required string WorkDir { get; init; }

    public static async Task<PipelineStack> StartAsync(IReadOnlyDictionary<string, string> infra, IReadOnlyDictionary<string, string>? extra = null)
    {
        var gerrit = await StandIn.StartAsync();
        var run = $"pb{Guid.NewGuid():N}"[..12];
        var stack = new PipelineStack { Gerrit = gerrit, Prefix = run + ".", WorkDir = Directory.CreateTempSubdirectory("slipway-bench-").FullName };
        var (key, _) = await gerrit.CreateClientKeyAsync();
        var knownHosts = Path.Combine(gerrit.WorkDirectory, "bench_known_hosts");
        await File.WriteAllTextAsync(knownHosts, gerrit.KnownHostsLine + "\n");

        // Topics exist once written to (the embedded broker auto-creates them).
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = infra["Kafka__BootstrapServers"] }).Build())
            foreach (var topic in new[] { Topics.GerritEvents, Topics.PipelineEvents })
                await producer.ProduceAsync(stack.Prefix + topic, new Message<string, byte[]> { Key = "warmup", Value = "{}"u8.ToArray() });

        var settings = new Dictionary<string, string>(infra)
        {
            ["Kafka__TopicPrefix"] = stack.Prefix, ["Gerrit__Url"] = gerrit.HttpUrl, ["Gerrit__HttpUser"] = gerrit.HttpUser,
            ["Gerrit__HttpPassword"] = gerrit.HttpPassword, ["Gerrit__Ssh__Url"] = gerrit.SshUrl, ["Gerrit__Ssh__PrivateKeyPath"] = key,
            ["Gerrit__Ssh__KnownHostsPath"] = knownHosts, ["Builder__WorkDir"] = Path.Combine(stack.WorkDir, "builder"),
            ["ConfigRegistry__RepositoryUrl"] = Path.Combine(stack.WorkDir, "config.git"), ["ConfigRegistry__WorkDir"] = Path.Combine(stack.WorkDir, "deployer"),
            ["ConfigRegistry__CreateIfMissing"] = "true", ["Tester__SmokeForwarderImage"] = infra["Slipway__BaseImage"],
            [$"Deployer__ApiTokens__{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}"] = "bench",
            ["Logging__LogLevel__Default"] = "Warning", ["DOTNET_ENVIRONMENT"] = "Production",
            // As the image and `./slipway up` run them: a 4 MB allocation budget between young collections (docs/benchmarks.md, "Memory").
            ["DOTNET_GCgen0size"] = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "0x400000",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) settings[k] = v;
        foreach (var (dir, assembly) in Services)
        {
            var info = new ProcessStartInfo("dotnet", DllOf(dir, assembly)) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (k, v) in settings) info.Environment[k] = v;
            info.Environment["Postgres__Schema"] = $"{run}_{dir.Replace('-', '_')}";
            var port = FreeLoopbackPort();
            info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            stack._urls[dir] = $"http://127.0.0.1:{port}";
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"{dir}: {e.Data}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            stack._processes.Add((dir, process));
        }
        stack.Record(infra["Kafka__BootstrapServers"]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (gerrit.StreamConnections == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(TimeSpan.FromSeconds(8)); // consumers join their groups
        return stack;
    }

    /// <summary>The service's HTTP address (health, <c>/metrics</c>), on 127.0.0.1.</summary>
    public string UrlOf(string service) => _urls[service];

    // A port the kernel just handed out and released: free unless something takes it in the moment before the service binds it.
    private static int FreeLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public IReadOnlyList<EventEnvelope> Events { get { lock (_events) return _events.ToList(); } }

    /// <summary>The gateway's events on <c>gerrit.events</c>, as recorded.</summary>
    public IReadOnlyList<EventEnvelope> GerritEvents { get { lock (_events) return _gerritEvents.ToList(); } }

    /// <summary>When the event's Kafka message was produced (its create timestamp), if it was recorded.</summary>
    public DateTimeOffset? ProducedAt(string eventId) { lock (_events) return _produced.TryGetValue(eventId, out var at) ? at : null; }

    public async Task<EventEnvelope> WaitForAsync(Func<EventEnvelope, bool> match, TimeSpan timeout) =>
        await WaitForAsync(match, timeout, throwOnTimeout: true) ?? throw new TimeoutException($"not within {timeout}");

    /// <summary>The first recorded event matching, waiting up to <paramref name="timeout"/>; null then unless told to throw.</summary>
    public async Task<EventEnvelope?> WaitForAsync(Func<EventEnvelope, bool> match, TimeSpan timeout, bool throwOnTimeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Events.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(50);
        }
        return throwOnTimeout ? throw new TimeoutException($"not within {timeout}") : null;
    }

    /// <summary>Each service process's peak resident set so far (VmHWM from /proc), in MB.</summary>
    public IReadOnlyList<(string Service, double Megabytes)> PeakResidentMegabytes() =>
        _processes.Select(p => (p.Service, PeakKilobytes(p.Process.Id) / 1024.0)).ToList();

    /// <summary>The service processes' ids (for the memory bench's sampling of /proc).</summary>
    public IReadOnlyList<(string Service, int Pid)> ProcessIds => _processes.Select(p => (p.Service, p.Process.Id)).ToList();

    private static long PeakKilobytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
        }
        catch (IOException) { return 0; }
    }

    private void Record(string bootstrap)
    {
        _recorder = new Thread(() =>
        {
            using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = Prefix + "recorder", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
            }).Build();
            consumer.Subscribe([Prefix + Topics.PipelineEvents, Prefix + Topics.GerritEvents]);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value } result)
                    {
                        var envelope = EventEnvelope.Parse(value);
                        lock (_events)
                        {
                            (result.Topic == Prefix + Topics.GerritEvents ? _gerritEvents : _events).Add(envelope);
                            _produced[envelope.Id] = result.Message.Timestamp.UtcDateTime;
                        }
                    }
                }
                catch (Exception e) when (e is ConsumeException or InvalidEventException) { }
            }
            consumer.Close();
        }) { IsBackground = true };
        _recorder.Start();
    }

    private static string DllOf(string dir, string assembly)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Slipway.sln")))
                return Path.Combine(d.FullName, "services", dir, "bin", "Release", "net10.0", assembly + ".dll");
        throw new InvalidOperationException("Slipway.sln not found");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _recorder?.Join(TimeSpan.FromSeconds(10));
        // SIGTERM first, as `slipway up` stops them: a tester stopping gracefully removes the smoke containers and networks
        // whose removal it paused (Tester:SmokeCleanupDelayMs); killed, it would leave them running on the engine.
        foreach (var (_, p) in _processes)
            if (!p.HasExited) Posix.Kill(p.Id, Posix.SIGTERM);
        foreach (var (_, p) in _processes)
        {
            using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await p.WaitForExitAsync(graceful.Token); }
            catch (OperationCanceledException) { p.Kill(entireProcessTree: true); }
            await p.WaitForExitAsync();
            p.Dispose();
        }
        await Gerrit.DisposeAsync();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { }
    }
}
