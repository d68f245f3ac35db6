using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Storage.Retention;

namespace Slipway.Hosting;

/// <summary>
/// The host's wiring of Postgres, Kafka and job workers: their options are bound and checked at start-up here,
/// so the libraries below the host stay free of it.
/// </summary>
public static class InfrastructureServiceCollectionExtensions
{
    /// <summary>
    /// The service's Postgres: a data source, its own schema, and its migrations applied at
    /// start-up (before any consumer or worker starts).
    /// </summary>
    public static IServiceCollection AddSlipwayStorage(this IServiceCollection services, IConfiguration configuration,
        SchemaName schema)
    {
        services.AddValidatedOptions<PostgresOptions>(configuration, PostgresOptions.Section, o => o.Validate());
        services.AddSingleton(schema);
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<PostgresOptions>>().Value.EffectiveConnectionString())
            .Build());
        services.AddSingleton<JobQueue>();
        services.AddMigrationsFrom(typeof(JobQueue).Assembly);
        services.AddSingleton<MigrationHostedService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MigrationHostedService>());
        services.AddValidatedOptions<RetentionOptions>(configuration, RetentionOptions.Section, o => o.Validate());
        services.AddRetentionRule(s => new RetentionRule("jobs", $"{s.Value}.jobs",
            "state IN ('succeeded', 'failed', 'cancelled') AND coalesce(finished_at, updated_at) < @cutoff"));
        services.AddSingleton<RetentionSweeper>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<RetentionSweeper>());
        return services;
    }

    /// <summary>Rows of a table in the service's schema that <see cref="RetentionSweeper"/> prunes once older than <c>Retention:Window</c>.</summary>
    public static IServiceCollection AddRetentionRule(this IServiceCollection services, Func<SchemaName, RetentionRule> rule) =>
        services.AddSingleton(sp => rule(sp.GetRequiredService<SchemaName>()));

    /// <summary>Kafka options, the producer, the outbox and its relay. Needs <see cref="AddSlipwayStorage"/>.</summary>
    public static IServiceCollection AddSlipwayMessaging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section, o => o.Validate());
        services.AddValidatedOptions<OutboxFaultInjectionOptions>(configuration, OutboxFaultInjectionOptions.Section, o => o.Validate());
        services.AddSingleton<TopicNames>();
        services.AddSingleton<KafkaProducerFactory>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<DeadLetterPublisher>();
        services.AddSingleton<OutboxRelay>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddMigrationsFrom(typeof(Outbox).Assembly);
        services.AddRetentionRule(s => new RetentionRule("inbox", $"{s.Value}.inbox", "handled_at < @cutoff"));
        return services;
    }

    /// <summary>Job workers running the registered <see cref="IJobHandler"/>s.</summary>
    public static IServiceCollection AddJobWorkers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<JobOptions>(configuration, JobOptions.Section, o => o.Validate());
        services.AddHostedService<JobWorkerHost>();
        return services;
    }
}
