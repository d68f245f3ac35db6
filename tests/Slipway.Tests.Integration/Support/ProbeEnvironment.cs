using Dapper;
using Npgsql;
using Slipway.Contracts;

namespace Slipway.Tests.Integration.Support;

/// <summary>
/// One test's own world: a topic prefix, a Postgres schema, the probe service processes it
/// starts. Disposing kills the processes and drops the schema, also when the test failed.
/// </summary>
public sealed class ProbeEnvironment : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];

    public string Prefix { get; } = TestInfrastructure.UniqueName("t") + ".";
    public string Schema { get; } = TestInfrastructure.UniqueName("probe_");
    public string InTopic => Prefix + "probe.in";
    public string OutTopic => Prefix + "probe.out";
    public string DeadLetterTopic => Prefix + Topics.DeadLetter;
    public KafkaTestClient Kafka { get; } = new();

    public ServiceProcess StartProbe(string instance, IDictionary<string, string?>? extra = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["Kafka__BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka__TopicPrefix"] = Prefix,
            ["Kafka__ConsumerGroup"] = Schema,
            ["Postgres__ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Probe__Schema"] = Schema,
            ["Probe__Instance"] = instance,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) env[k] = v;
        var process = ServiceProcess.Start(
            TestInfrastructure.ProjectDll("dev/Slipway.Tests.ProbeService", "Slipway.Tests.ProbeService"), env);
        _processes.Add(process);
        return process;
    }

    public static EventEnvelope ProbeEvent(string key, int seq, bool poison = false, int slowMs = 0, string? sqlFault = null, string? padding = null) =>
        EventEnvelope.Create(new ProbeService.ProbeEvent(key, seq, poison, slowMs, sqlFault, padding), source: "/tests", subject: key,
            id: DeterministicId.From("probe", key, seq.ToString()));

    public async Task<T> QueryScalarAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        return await conn.ExecuteScalarAsync<T>(sql.Replace("$schema$", Schema)) ?? throw new InvalidOperationException("null");
    }

    public async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        return (await conn.QueryAsync<T>(sql.Replace("$schema$", Schema))).ToList();
    }

    /// <summary>Polls until <paramref name="sql"/> returns at least <paramref name="count"/>, or fails with the processes' output.</summary>
    public async Task<long> WaitForCountAsync(string sql, long count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long current = -1;
        while (DateTime.UtcNow < deadline)
        {
            try { current = await QueryScalarAsync<long>(sql); }
            catch (PostgresException e) when (e.SqlState == "42P01") { } // table not migrated yet
            if (current >= count) return current;
            await Task.Delay(200);
        }
        throw new TimeoutException($"`{sql}` reached {current}, not {count}, within {timeout}.\n" +
            string.Join("\n---\n", _processes.Select(p => p.Output)));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
        Kafka.Dispose();
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {Schema} CASCADE");
    }
}
