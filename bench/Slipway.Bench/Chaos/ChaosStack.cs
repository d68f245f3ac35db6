using System.Security.Cryptography;
using System.Text.Json;
using Confluent.Kafka;
using Slipway.Contracts;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Bench.Chaos;

/// <summary>
/// The six services, two instances each (same schema and consumer group, own port and work directory), against a
/// Gerrit stand-in and the embedded infrastructure, with the campaign's own topic prefix. Everything it starts it
/// stops, also when starting fails half way.
/// </summary>
public sealed class ChaosStack : IAsyncDisposable
{
    public static readonly (string Dir, string Assembly)[] Services =
    [
        ("gerrit-gateway", "Slipway.GerritGateway"), ("builder", "Slipway.Builder"), ("tester", "Slipway.Tester"),
        ("publisher", "Slipway.Publisher"), ("deployer", "Slipway.Deployer"), ("reporter", "Slipway.Reporter"),
    ];
    public const int InstancesPerService = 2;
    public const string Approver = "release-manager";

    private ChaosStack(StandIn gerrit, string prefix, string workDir, IReadOnlyDictionary<string, string> infra)
    {
        Gerrit = gerrit;
        Prefix = prefix;
        WorkDir = workDir;
        Infra = infra;
    }

    public StandIn Gerrit { get; }
    public string Prefix { get; }
    public string WorkDir { get; }
    public IReadOnlyDictionary<string, string> Infra { get; }
    public string Token { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
    public string ConfigRepository => Path.Combine(WorkDir, "config-registry.git");
    /// <summary>While this file exists, every instance's outbox relay holds its acknowledged batches before deleting them.</summary>
    public string HoldAfterProduceFile => Path.Combine(WorkDir, "hold-after-produce");
    public List<ServiceInstance> Instances { get; } = [];
    public EventRecorder? Recorder { get; private set; }

    public IReadOnlyList<EventEnvelope> Events => Recorder?.Events ?? [];

    public static async Task<ChaosStack> StartAsync(IReadOnlyDictionary<string, string> infra)
    {
        var gerrit = await StandIn.StartAsync();
        var run = $"ch{Guid.NewGuid():N}"[..12];
        var stack = new ChaosStack(gerrit, run + ".", Directory.CreateTempSubdirectory("slipway-chaos-").FullName, infra);
        try
        {
            await stack.StartServicesAsync(run);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    private async Task StartServicesAsync(string run)
    {
        var (key, _) = await Gerrit.CreateClientKeyAsync();
        var knownHosts = Path.Combine(Gerrit.WorkDirectory, "chaos_known_hosts");
        await File.WriteAllTextAsync(knownHosts, Gerrit.KnownHostsLine + "\n");
        Gerrit.AddAccount("Release Manager", "rm@example.org", Approver);

        // Topics exist once written to (the embedded broker auto-creates them).
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = Infra["Kafka__BootstrapServers"] }).Build())
            foreach (var topic in new[] { Topics.GerritEvents, Topics.PipelineEvents })
                await producer.ProduceAsync(Prefix + topic, new Message<string, byte[]> { Key = "warmup", Value = "{}"u8.ToArray() });
        Recorder = new EventRecorder(Infra["Kafka__BootstrapServers"], Prefix + Topics.PipelineEvents, Prefix + "recorder");

        var reporterPort = Slipway.Embedded.FreePort.Next();
        var common = new Dictionary<string, string>(Infra)
        {
            ["Kafka__TopicPrefix"] = Prefix, ["Gerrit__Url"] = Gerrit.HttpUrl, ["Gerrit__HttpUser"] = Gerrit.HttpUser,
            ["Gerrit__HttpPassword"] = Gerrit.HttpPassword, ["Gerrit__Ssh__Url"] = Gerrit.SshUrl, ["Gerrit__Ssh__PrivateKeyPath"] = key,
            ["Gerrit__Ssh__KnownHostsPath"] = knownHosts, ["Gateway__InitialBackoffSeconds"] = "0.2", ["Gateway__MaxBackoffSeconds"] = "2",
            ["ConfigRegistry__RepositoryUrl"] = ConfigRepository, ["ConfigRegistry__CreateIfMissing"] = "true",
            ["Tester__SmokeForwarderImage"] = Infra["Slipway__BaseImage"], ["Reporter__ProgressComments"] = "false",
            ["Reporter__PublicUrl"] = $"http://127.0.0.1:{reporterPort}",
            ["Deployer__Approvers__0"] = Approver, [$"Deployer__ApiTokens__{Token}"] = Approver,
            ["Deployer__Environments__staging__Replicas"] = "1", ["Deployer__Environments__production__Replicas"] = "2",
            ["Jobs__LeaseSeconds"] = "6", ["Jobs__PollMilliseconds"] = "200", ["Jobs__RetryDelaySeconds"] = "0.5",
            // Information, so that the campaign sees the moments it injects faults at.
            ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__Slipway"] = "Information",
            // The relay's testing aid: while the campaign holds this file, every outbox batch Kafka acknowledged waits before
            // its delete, so kill-after-produce kills in that window for certain (absent otherwise: no hold).
            ["Messaging__FaultInjection__HoldAfterProduceFile"] = HoldAfterProduceFile,
            ["Logging__Console__FormatterName"] = "simple", ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (dir, assembly) in Services)
        {
            var schema = $"{run}_{dir.Replace('-', '_')}";
            for (var i = 0; i < InstancesPerService; i++)
            {
                var settings = new Dictionary<string, string>(common)
                {
                    ["Postgres__Schema"] = schema, ["Kafka__ConsumerGroup"] = schema,
                    ["Builder__WorkDir"] = Path.Combine(WorkDir, $"builder-{i}"), ["ConfigRegistry__WorkDir"] = Path.Combine(WorkDir, $"deployer-{i}"),
                };
                var port = dir == "reporter" && i == 0 ? reporterPort : Slipway.Embedded.FreePort.Next();
                var instance = new ServiceInstance(dir, i, DllOf(dir, assembly), port, settings);
                Instances.Add(instance);
                instance.Start();
            }
        }
        // Twelve .NET processes starting at once on a loaded machine: as long as the trial's own readiness bound.
        await WaitUntilReadyAsync(TimeSpan.FromMinutes(3));
    }

    /// <summary>Every instance answers /_info with its consumers assigned and both gateways hold a stream; bounded.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var notReady = new List<string>();
        foreach (var instance in Instances)
        {
            var ready = false;
            while (!ready && DateTime.UtcNow < deadline)
            {
                if (!instance.IsRunning) instance.Start();
                try
                {
                    using var info = JsonDocument.Parse(await http.GetStringAsync(instance.Url + "/_info"));
                    ready = !info.RootElement.TryGetProperty("consumers", out var consumers) || consumers.ValueKind != JsonValueKind.Array
                            || consumers.EnumerateArray().All(c => c.GetProperty("assigned").GetBoolean());
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                if (!ready) await Task.Delay(250);
            }
            if (!ready) notReady.Add(instance.Name);
        }
        while (Gerrit.StreamConnections < InstancesPerService && DateTime.UtcNow < deadline) await Task.Delay(200);
        if (Gerrit.StreamConnections < InstancesPerService) notReady.Add($"gerrit streams ({Gerrit.StreamConnections} of {InstancesPerService})");
        if (notReady.Count > 0)
            throw new TimeoutException($"not ready within {timeout}: {string.Join(", ", notReady)}; last output of the first: " +
                                       string.Join(" | ", (Instances.FirstOrDefault(i => notReady.Contains(i.Name))?.Output ?? "").Split('\n').TakeLast(5)));
    }

    public IEnumerable<ServiceInstance> Of(string service) => Instances.Where(i => i.Service == service);

    /// <summary>The deployer's API on whichever instance answers (one may be down).</summary>
    /// <param name="idempotencyKey">Sent with every attempt (a manual rollback's Idempotency-Key): a retry after a lost answer is the same request.</param>
    public async Task<string> DeployerAsync(HttpMethod method, string path, TimeSpan timeout, CancellationToken ct, string? idempotencyKey = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        for (var attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            var instance = Of("deployer").ElementAt(attempt % InstancesPerService);
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                using var request = new HttpRequestMessage(method, instance.Url + path);
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
                if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
                using var response = await http.SendAsync(request, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.IsSuccessStatusCode) return body;
                last = $"{(int)response.StatusCode}: {body}";
                if ((int)response.StatusCode is >= 400 and < 500 and not 409 and not 404) break;
            }
            catch (HttpRequestException e) { last = e.Message; }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { last = "timed out"; }
            await Task.Delay(1000, ct);
        }
        throw new InvalidOperationException($"deployer {method} {path}: {last}");
    }

    /// <summary>The build the services run from: the bench's own (Release for `slipway chaos`, Debug in `slipway test`).</summary>
    private static string Configuration => Environment.GetEnvironmentVariable("Chaos__Configuration") is "Debug" ? "Debug" : "Release";

    private static string DllOf(string dir, string assembly)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Slipway.sln")))
                return Path.Combine(d.FullName, "services", dir, "bin", Configuration, "net10.0", assembly + ".dll");
        throw new InvalidOperationException("Slipway.sln not found");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in Instances) await instance.KillHardAsync();
        Recorder?.Dispose();
        await Gerrit.DisposeAsync();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
