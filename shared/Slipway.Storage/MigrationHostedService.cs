using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Slipway.Storage;

/// <summary>Applies the service's migrations when the host starts; hosted services registered after it start only once it is done.</summary>
public sealed class MigrationHostedService(
    IOptions<PostgresOptions> options,
    SchemaName schema,
    IEnumerable<MigrationAssembly> assemblies,
    ILogger<MigrationHostedService> logger) : IHostedService
{
    public bool Completed { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await SchemaMigrator.MigrateAsync(options.Value.ConnectionString!, schema, assemblies.Select(a => a.Assembly),
            logger, cancellationToken);
        Completed = true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
