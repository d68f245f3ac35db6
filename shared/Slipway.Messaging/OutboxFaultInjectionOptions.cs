namespace Slipway.Messaging;

/// <summary>
/// Configuration section <c>Messaging:FaultInjection</c>: a testing aid for the fault campaign and the crash tests,
/// off unless set, never set by the demo or the chart. It lets a test kill a service exactly between Kafka's
/// acknowledgement of an outbox batch and the batch's delete, a window otherwise a few milliseconds wide.
/// </summary>
public sealed class OutboxFaultInjectionOptions
{
    public const string Section = "Messaging:FaultInjection";

    /// <summary>
    /// While the file at this absolute path exists, the outbox relay holds each batch Kafka has acknowledged before
    /// deleting it (logging <c>outbox: fault injection: holding</c>), for at most <see cref="MaxHold"/>. Unset: no hold.
    /// </summary>
    public string? HoldAfterProduceFile { get; set; }

    /// <summary>The longest one batch is held, so a forgotten file slows the relay but never stops it.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMinutes(5);

    public IEnumerable<string> Validate()
    {
        if (HoldAfterProduceFile is { } file && (file.Length > 4096 || !Path.IsPathFullyQualified(file)))
            yield return "Messaging:FaultInjection:HoldAfterProduceFile must be an absolute path (a testing aid; leave it unset)";
    }
}
