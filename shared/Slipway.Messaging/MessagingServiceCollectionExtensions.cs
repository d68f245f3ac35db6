using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Slipway.Storage;

namespace Slipway.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>Kafka options, the producer, the outbox and its relay. Needs <c>AddSlipwayStorage</c>.</summary>
    public static IServiceCollection AddSlipwayMessaging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section);
        services.AddSingleton<TopicNames>();
        services.AddSingleton<KafkaProducerFactory>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<DeadLetterPublisher>();
        services.AddSingleton<OutboxRelay>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddMigrationsFrom(typeof(Outbox).Assembly);
        return services;
    }

    /// <summary>A consumer named <paramref name="name"/> (its inbox scope) of the given logical topics.</summary>
    public static IServiceCollection AddEventConsumer<THandler>(this IServiceCollection services, string name,
        params string[] logicalTopics) where THandler : class, IIntegrationEventHandler
    {
        services.AddScoped<THandler>();
        var registration = new ConsumerRegistration(name, logicalTopics, typeof(THandler));
        services.AddSingleton(registration);
        // Keyed by name so readiness checks can find each consumer's host.
        services.AddKeyedSingleton(name, (sp, _) => ActivatorUtilities.CreateInstance<KafkaConsumerHost>(sp, registration));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<KafkaConsumerHost>(name));
        return services;
    }
}
