using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Messaging;

namespace Slipway.Hosting;

/// <summary>
/// Logs every event a service receives (type, run, subject). Services use it for the topics whose
/// stage logic they do not implement yet, so the wiring — consumer group, inbox, tracing — is
/// already real and visible in <c>./slipway up</c>.
/// </summary>
public sealed class EventObserver(SlipwayServiceDefinition service, ILogger<EventObserver> logger) : IIntegrationEventHandler
{
    public Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        logger.LogInformation("{Service} received {Type} id={Id} run={RunId} subject={Subject} from {Topic}[{Partition}]@{Offset}",
            service.Name, envelope.Type, envelope.Id, envelope.RunId ?? "-", envelope.Subject ?? "-", context.Topic,
            context.Partition, context.Offset);
        return Task.CompletedTask;
    }
}
