namespace Slipway.Bench.Chaos;

/// <summary>The faults the campaign injects. The kill-at-moment kinds wait for the line a service logs at that moment.</summary>
public enum FaultKind
{
    /// <summary>kill -9 of a random instance at a random second.</summary>
    KillRandom,
    /// <summary>kill -9 of the reporter that has just posted a comment to Gerrit (before its job is marked done).</summary>
    KillAfterGerritPost,
    /// <summary>kill -9 of the publisher that has just pushed a first tag (the push under way).</summary>
    KillMidPublish,
    /// <summary>kill -9 of the builder that has just started building an image.</summary>
    KillMidBuild,
    /// <summary>kill -9 of the deployer that has just started a rollout stage.</summary>
    KillMidRollout,
    /// <summary>kill -9 of the deployer that has just started waiting for an approval.</summary>
    KillWhileAwaitingApproval,
    /// <summary>pg_ctl stop and start of the embedded cluster (same port).</summary>
    PostgresRestart,
    /// <summary>The Gerrit stand-in's REST API answers 503 for a while.</summary>
    GerritUnavailable,
    /// <summary>The stand-in cuts every stream-events connection (the gateways must catch up).</summary>
    SshStreamCut,
    /// <summary>
    /// kill -9 of an instance of any service whose outbox relay holds a batch Kafka acknowledged, before its delete: the
    /// campaign arms the relay's hold (Messaging:FaultInjection:HoldAfterProduceFile) for this fault only.
    /// </summary>
    KillAfterProduce,
    /// <summary>One broker of the embedded Kafka cluster taken down for a while, then brought back.</summary>
    KafkaBrokerDown,
    /// <summary>The embedded registry stopped for a while, then started again on its port: publishes retry, each tag pushed once.</summary>
    RegistryDown,
    /// <summary>
    /// kill -9 of the deployer that has just recorded a deploy in the configuration registry (the commit pushed, its
    /// job not yet marked done): the redelivered job must not commit again.
    /// </summary>
    KillAfterConfigCommit,
    /// <summary>At the end of the stream: every instance killed and started again, then left to finish.</summary>
    RestartAll,
}

public static class FaultKinds
{
    /// <summary>Service and log-line marker of each kill-at-moment kind.</summary>
    public static (string Service, string Marker)? MomentOf(FaultKind kind) => kind switch
    {
        FaultKind.KillAfterGerritPost => ("reporter", " comment of run "),
        FaultKind.KillMidPublish => ("publisher", "Pushed "),
        FaultKind.KillMidBuild => ("builder", "Building variant "),
        FaultKind.KillMidRollout => ("deployer", "Rolling out "),
        FaultKind.KillWhileAwaitingApproval => ("deployer", " waits for approval"),
        FaultKind.KillAfterConfigCommit => ("deployer", ".yaml records "),
        FaultKind.KillAfterProduce => (AnyService, "outbox: fault injection: holding "),
        _ => null,
    };

    /// <summary>The service of a moment any service can reach.</summary>
    public const string AnyService = "*";

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.KillRandom => "kill-random",
        FaultKind.KillAfterGerritPost => "kill-after-gerrit-post",
        FaultKind.KillMidPublish => "kill-mid-publish",
        FaultKind.KillMidBuild => "kill-mid-build",
        FaultKind.KillMidRollout => "kill-mid-rollout",
        FaultKind.KillWhileAwaitingApproval => "kill-awaiting-approval",
        FaultKind.PostgresRestart => "postgres-restart",
        FaultKind.GerritUnavailable => "gerrit-503",
        FaultKind.SshStreamCut => "ssh-cut",
        FaultKind.KillAfterProduce => "kill-after-produce",
        FaultKind.KafkaBrokerDown => "kafka-broker-down",
        FaultKind.RegistryDown => "registry-down",
        FaultKind.KillAfterConfigCommit => "kill-after-config-commit",
        FaultKind.RestartAll => "restart-all",
        _ => kind.ToString(),
    };

    public static FaultKind Parse(string name) =>
        Enum.GetValues<FaultKind>().FirstOrDefault(k => Name(k) == name, (FaultKind)(-1)) is var k && k != (FaultKind)(-1)
            ? k : throw new ArgumentException($"unknown fault kind '{name}'; known: {string.Join(", ", Enum.GetValues<FaultKind>().Select(Name))}");
}
