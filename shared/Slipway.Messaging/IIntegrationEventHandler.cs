using Npgsql;
using Slipway.Contracts;

namespace Slipway.Messaging;

/// <summary>
/// Handles events from Kafka. Runs inside a database transaction that also records the event in
/// the inbox; write effects and outgoing events (through <see cref="MessageContext.Outbox"/>) in
/// <see cref="MessageContext.Transaction"/> and they commit together, once. Keep it short: long
/// work is recorded as a job (<c>JobQueue.EnqueueAsync</c>) and done by job workers.
/// Throwing rolls everything back; the event is retried, then dead-lettered.
/// </summary>
public interface IIntegrationEventHandler
{
    Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct);
}

/// <summary>Where an event came from, and the transaction its effects belong in.</summary>
public sealed record MessageContext(NpgsqlTransaction Transaction, Outbox Outbox, string Topic, int Partition, long Offset,
    string? Key)
{
    /// <summary>
    /// Statements to run in <see cref="Transaction"/> just before it commits, sent together with the rest of the batch's
    /// (one round trip per batch instead of one per statement): for writes nothing in the batch reads back.
    /// </summary>
    public required DeferredWrites Writes { get; init; }
}
