using System.Text.Json;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Deployer.Config;
using Slipway.Storage;

namespace Slipway.Deployer.Rollout;

/// <summary>The deployer's <c>deployments</c> table: the values before and after a run's rollout of one environment.</summary>
public sealed class DeploymentLedger(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _table = $"{schema.Value}.deployments";

    public sealed record Entry(string Service, ServiceValues? Previous, ServiceValues New, string? ConfigRevision);

    /// <summary>Records the rollout's before/after once; a retry reads back the first record, whatever runs now.</summary>
    public async Task<Entry> BeginAsync(string runId, string environment, string service, ServiceValues? previous, ServiceValues next,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO {_table} (run_id, environment, service, previous_values, new_values)
            VALUES (@runId, @environment, @service, @previous::jsonb, @next::jsonb) ON CONFLICT DO NOTHING
            """,
            new
            {
                runId, environment, service, previous = previous is null ? null : JsonSerializer.Serialize(previous, ContractJson.Options),
                next = JsonSerializer.Serialize(next, ContractJson.Options),
            }, cancellationToken: ct));
        var row = await conn.QuerySingleAsync<(string service, string? previous, string next, string? revision)>(new CommandDefinition(
            $"SELECT service, previous_values::text, new_values::text, config_revision FROM {_table} WHERE run_id = @runId AND environment = @environment",
            new { runId, environment }, cancellationToken: ct));
        return new Entry(row.service, row.previous is null ? null : JsonSerializer.Deserialize<ServiceValues>(row.previous, ContractJson.Options),
            JsonSerializer.Deserialize<ServiceValues>(row.next, ContractJson.Options)!, row.revision);
    }

    public async Task SetRevisionAsync(string runId, string environment, string revision, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_table} SET config_revision = @revision WHERE run_id = @runId AND environment = @environment",
            new { runId, environment, revision }, cancellationToken: ct));
    }
}
