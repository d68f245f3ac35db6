using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Slipway.Messaging;

public static class MessagingServiceCollectionExtensions
{
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
