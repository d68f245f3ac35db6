namespace Slipway.Messaging;

/// <summary>Configuration section <c>Kafka</c>.</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>Comma-separated <c>host:port</c> list.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Prepended verbatim to every topic name (<c>staging.</c> gives <c>staging.gerrit.events</c>).</summary>
    public string TopicPrefix { get; set; } = "";

    /// <summary>Consumer group; defaults to the service's name so each service is one group.</summary>
    public string? ConsumerGroup { get; set; }

    /// <summary>
    /// Whether Kafka clients send each request at once (TCP_NODELAY, librdkafka's <c>socket.nagle.disable</c>) instead
    /// of holding a small request until the one before is acknowledged (false only to measure the difference).
    /// </summary>
    public bool SocketNagleDisable { get; set; } = true;

    /// <summary>
    /// Most messages handled in one database transaction. A batch takes only what is already fetched (it never waits
    /// to fill), so a quiet service handles each event alone and a backlog goes through in fewer, larger transactions
    /// (1,000: docs/benchmarks.md, "Messaging host as the services run it").
    /// </summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>
    /// Most bytes of message values in one batch (the batch ends at the message that reaches it; one larger message
    /// is a batch of its own): a backlog of large events does not hold <see cref="MaxBatchSize"/> of them at once.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Attempts at a failing message after the first, before it goes to the dead-letter topic.</summary>
    public int MaxRetries { get; set; } = 4;

    public int RetryBackoffMilliseconds { get; set; } = 200;
    public int MaxRetryBackoffMilliseconds { get; set; } = 10_000;

    /// <summary>Largest event accepted (bytes); bigger ones are dead-lettered unread.</summary>
    public int MaxMessageBytes { get; set; } = 1_000_000;

    /// <summary>
    /// Whether a batch's outgoing events are inserted into the outbox with one statement before the batch commits
    /// (true), instead of one insert per event as the handler adds it (false: kept to measure the difference).
    /// </summary>
    public bool BatchOutboxInserts { get; set; } = true;

    /// <summary>Most outbox events the relay reads, produces (awaiting their acknowledgements together) and deletes at a time.</summary>
    public int RelayBatchSize { get; set; } = 2000;

    /// <summary>Whether this instance relays the outbox to Kafka (off only to test a crash before producing).</summary>
    public bool RelayOutbox { get; set; } = true;

    /// <summary>One line per problem, naming the key (the host checks it at start-up).</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
            yield return "Kafka:BootstrapServers is required (host:port[,host:port...])";
        else
            foreach (var server in BootstrapServers.Split(',', StringSplitOptions.TrimEntries))
            {
                var colon = server.LastIndexOf(':');
                if (colon <= 0 || !int.TryParse(server[(colon + 1)..], out var port) || port is < 1 or > 65535)
                {
                    yield return $"Kafka:BootstrapServers has an invalid entry '{server}' (want host:port)";
                    break;
                }
            }
        if (TopicPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            yield return "Kafka:TopicPrefix may contain only ASCII letters, digits, '.', '_' and '-'";
        if (MaxBatchSize is < 1 or > 10_000) yield return "Kafka:MaxBatchSize must be between 1 and 10000";
        if (MaxBatchBytes is < 1024 or > 1_000_000_000) yield return "Kafka:MaxBatchBytes must be between 1024 and 1000000000";
        if (RelayBatchSize is < 1 or > 50_000) yield return "Kafka:RelayBatchSize must be between 1 and 50000";
        if (MaxRetries is < 0 or > 100) yield return "Kafka:MaxRetries must be between 0 and 100";
        if (RetryBackoffMilliseconds is < 0 or > 600_000) yield return "Kafka:RetryBackoffMilliseconds must be between 0 and 600000";
        if (MaxMessageBytes is < 1024 or > 100_000_000) yield return "Kafka:MaxMessageBytes must be between 1024 and 100000000";
    }
}
