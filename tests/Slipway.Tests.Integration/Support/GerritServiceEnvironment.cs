using Npgsql;
using Slipway.Contracts;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.Integration.Support;

/// <summary>
/// The Gerrit stand-in (real sshd and git) plus Slipway service processes pointed at it, with
/// this test's own topic prefix and Postgres schemas. Disposing stops all of it.
/// </summary>
public sealed class GerritServiceEnvironment : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly List<string> _schemas = [];

    public required StandIn Gerrit { get; init; }
    public required string PrivateKeyPath { get; init; }
    public required string KnownHostsPath { get; init; }
    public string Prefix { get; } = TestInfrastructure.UniqueName("g") + ".";
    public string GerritTopic => Prefix + Topics.GerritEvents;
    public string PipelineTopic => Prefix + Topics.PipelineEvents;
    public KafkaTestClient Kafka { get; } = new();

    public static async Task<GerritServiceEnvironment> StartAsync()
    {
        _ = TestInfrastructure.KafkaBootstrap; // fail before starting anything when run outside `./slipway test`
        var gerrit = await StandIn.StartAsync();
        try
        {
            var (key, _) = await gerrit.CreateClientKeyAsync();
            var knownHosts = Path.Combine(gerrit.WorkDirectory, "slipway_known_hosts");
            await File.WriteAllTextAsync(knownHosts, gerrit.KnownHostsLine + "\n");
            return new GerritServiceEnvironment { Gerrit = gerrit, PrivateKeyPath = key, KnownHostsPath = knownHosts };
        }
        catch
        {
            await gerrit.DisposeAsync(); // no sshd left behind when set-up fails
            throw;
        }
    }

    /// <summary>Starts a service process (e.g. ("gerrit-gateway", "Slipway.GerritGateway")) with its own schema.</summary>
    public ServiceProcess StartService(string dir, string assembly, string schema, IDictionary<string, string?>? extra = null, int? port = null)
    {
        if (!_schemas.Contains(schema)) _schemas.Add(schema);
        var env = new Dictionary<string, string?>
        {
            ["Kafka__BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka__TopicPrefix"] = Prefix,
            ["Kafka__ConsumerGroup"] = schema,
            ["Postgres__ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Postgres__Schema"] = schema,
            ["Gerrit__Url"] = Gerrit.HttpUrl,
            ["Gerrit__HttpUser"] = Gerrit.HttpUser,
            ["Gerrit__HttpPassword"] = Gerrit.HttpPassword,
            ["Gerrit__Ssh__Url"] = Gerrit.SshUrl,
            ["Gerrit__Ssh__PrivateKeyPath"] = PrivateKeyPath,
            ["Gerrit__Ssh__KnownHostsPath"] = KnownHostsPath,
            ["Gateway__InitialBackoffSeconds"] = "0.2",
            ["Gateway__MaxBackoffSeconds"] = "2",
            ["Jobs__PollMilliseconds"] = "100",
            ["Jobs__RetryDelaySeconds"] = "0.2",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) env[k] = v;
        var process = ServiceProcess.Start(TestInfrastructure.ProjectDll($"services/{dir}", assembly), env, port);
        _processes.Add(process);
        return process;
    }

    public string Output => string.Join("\n---\n", _processes.Select(p => p.Output));

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
        Kafka.Dispose();
        await Gerrit.DisposeAsync();
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.OpenAsync();
        foreach (var schema in _schemas)
        {
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", conn);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
