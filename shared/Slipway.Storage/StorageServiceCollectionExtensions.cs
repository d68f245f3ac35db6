using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Slipway.Storage;

/// <summary>Storage's own wiring; the rest (options, data source, job workers) is the host's (Slipway.Hosting).</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Adds an assembly whose embedded <c>Migrations/*.sql</c> belong in the service's schema.</summary>
    public static IServiceCollection AddMigrationsFrom(this IServiceCollection services, Assembly assembly)
    {
        services.AddSingleton(new MigrationAssembly(assembly));
        return services;
    }
}

public sealed record MigrationAssembly(Assembly Assembly);
