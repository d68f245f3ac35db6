using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Slipway.Storage;

/// <summary>
/// Applies a service's migrations (embedded <c>Migrations/*.sql</c> of the given assemblies,
/// with <c>$schema$</c> replaced by the service's schema) under a Postgres advisory lock, so
/// several instances starting at once apply each script exactly once.
/// </summary>
public static class SchemaMigrator
{
    public static async Task MigrateAsync(string connectionString, SchemaName schema, IEnumerable<Assembly> assemblies,
        ILogger logger, CancellationToken ct = default)
    {
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext('slipway.migrate.' || @schema))", lockConnection))
        {
            lockCmd.Parameters.AddWithValue("schema", schema.Value);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        try
        {
            await using (var create = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {schema.Value}", lockConnection))
                await create.ExecuteNonQueryAsync(ct);

            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString, schema.Value)
                .WithScriptsEmbeddedInAssemblies(assemblies.Distinct().ToArray(), name => name.Contains(".Migrations.") && name.EndsWith(".sql"))
                .WithVariable("schema", schema.Value)
                .JournalToPostgresqlTable(schema.Value, "schema_versions")
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"migration of schema '{schema}' failed at {result.ErrorScript?.Name}: {result.Error?.Message}", result.Error);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('slipway.migrate.' || @schema))", lockConnection);
            unlock.Parameters.AddWithValue("schema", schema.Value);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        // DbUp narrates every check; only the scripts it runs are worth an info line.
        public void LogInformation(string format, params object[] args)
        {
            if (format.StartsWith("Executing", StringComparison.Ordinal)) logger.LogInformation("migrations: " + format, args);
            else logger.LogDebug("migrations: " + format, args);
        }
        public void LogWarning(string format, params object[] args) => logger.LogWarning("migrations: " + format, args);
        public void LogError(string format, params object[] args) => logger.LogError("migrations: " + format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, "migrations: " + format, args);
    }
}
