using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Publisher.Registry;
using Slipway.Runs;

namespace Slipway.Publisher.Runs;

/// <summary>
/// The publisher's one consumer of the pipeline topic: the run's stage logic (<see cref="StageEventHandler"/>)
/// and, in the same transaction, what the deployer's events say about images retention must keep.
/// </summary>
public sealed class PublisherEventHandler(StageEventHandler stages, ProtectedImages protectedImages) : IIntegrationEventHandler
{
    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        await protectedImages.RecordAsync(context.Transaction, envelope.RunId, ProtectedImagesEvent(envelope), ct);
        await stages.HandleAsync(envelope, context, ct);
    }

    private static readonly HashSet<string> Relevant =
    [
        EventTypes.NameOf<ApprovalRequested>(), EventTypes.NameOf<ApprovalRefused>(), EventTypes.NameOf<DeploySucceeded>(),
        EventTypes.NameOf<RollbackPerformed>(), EventTypes.NameOf<RunFinished>(),
    ];

    private static object? ProtectedImagesEvent(EventEnvelope envelope) => Relevant.Contains(envelope.Type) ? envelope.Event() : null;
}
