using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Storage.Jobs;

namespace Slipway.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Binds a configuration section to <typeparamref name="T"/> and checks it at start-up.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration,
        string section) where T : class, IValidatableOptions
    {
        // An empty section binds from the root (for options that span sections).
        services.AddOptions<T>().Bind(section.Length == 0 ? configuration : configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SelfValidation<T>>());
        return services;
    }

    /// <summary>
    /// The service's Postgres: a data source, its own schema, and its migrations applied at
    /// start-up (before any consumer or worker starts).
    /// </summary>
    public static IServiceCollection AddSlipwayStorage(this IServiceCollection services, IConfiguration configuration,
        SchemaName schema)
    {
        services.AddValidatedOptions<PostgresOptions>(configuration, PostgresOptions.Section);
        services.AddSingleton(schema);
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<PostgresOptions>>().Value.ConnectionString)
            .Build());
        services.AddSingleton<JobQueue>();
        services.AddMigrationsFrom(typeof(JobQueue).Assembly);
        services.AddSingleton<MigrationHostedService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MigrationHostedService>());
        return services;
    }

    /// <summary>Adds an assembly whose embedded <c>Migrations/*.sql</c> belong in the service's schema.</summary>
    public static IServiceCollection AddMigrationsFrom(this IServiceCollection services, Assembly assembly)
    {
        services.AddSingleton(new MigrationAssembly(assembly));
        return services;
    }

    /// <summary>Job workers running the registered <see cref="IJobHandler"/>s.</summary>
    public static IServiceCollection AddJobWorkers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<JobOptions>(configuration, JobOptions.Section);
        services.AddHostedService<JobWorkerHost>();
        return services;
    }

    private sealed class SelfValidation<T> : IValidateOptions<T> where T : class, IValidatableOptions
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

public sealed record MigrationAssembly(Assembly Assembly);
