using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Hosting.Health;

/// <summary>Ready when Postgres answers and the service's migrations are applied.</summary>
public sealed class PostgresHealthCheck(NpgsqlDataSource dataSource, MigrationHostedService migrations) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        if (!migrations.Completed) return HealthCheckResult.Unhealthy("migrations not applied yet");
        try
        {
            await using var cmd = dataSource.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) { return HealthCheckResult.Unhealthy($"postgres: {e.Message}"); }
    }
}
