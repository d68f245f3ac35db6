using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>Why a rollback happened.</summary>
[Description("automatic: the deployer, after failed health checks; manual: a person (slipway rollback).")]
public enum RollbackReason
{
    /// <summary>The deployer rolled back by itself after failed health checks.</summary>
    Automatic,

    /// <summary>A person asked for it.</summary>
    Manual,
}

/// <summary>
/// The deployer put a service back on an earlier image. Automatic rollbacks belong to the run whose
/// deploy failed (envelope <c>runid</c> set); manual ones may belong to no run.
/// </summary>
[EventType("slipway.rollback.performed.v1", RunScoped = false)]
[Description("The deployer put a service back on an earlier image, automatically after failed health checks or at a person's request.")]
public sealed record RollbackPerformed : IPipelineEvent
{
    /// <summary>The environment, e.g. <c>production</c>.</summary>
    [MaxLength(128)] public required string Environment { get; init; }

    /// <summary>The service (release).</summary>
    [MaxLength(128)] public required string Service { get; init; }

    /// <summary>Repository of the images involved, without tag.</summary>
    [MaxLength(512)] public string? Uri { get; init; }

    /// <summary>The digest that was running (and is no more).</summary>
    [Description("The digest that was running (and is no more).")]
    [RegularExpression(ContractPatterns.Digest)] public required string FromDigest { get; init; }

    /// <summary>The digest running now; absent when there was no earlier image and the service was removed.</summary>
    [Description("The digest running now; absent when there was no earlier image and the new one was removed.")]
    [RegularExpression(ContractPatterns.Digest)] public string? ToDigest { get; init; }

    /// <summary>automatic or manual.</summary>
    public required RollbackReason Reason { get; init; }

    /// <summary>What triggered it, for humans: the failed check, or the person's words.</summary>
    [Description("What triggered it, for humans: the failed check, or the person's words.")]
    [MaxLength(4096)] public string? Detail { get; init; }

    /// <summary>Who asked, for a manual rollback.</summary>
    [Description("Who asked, for a manual rollback.")]
    public Account? By { get; init; }

    /// <summary>When it was done.</summary>
    [Description("When the rollback completed.")]
    public required DateTimeOffset PerformedAt { get; init; }

    /// <summary>The configuration-registry commit recording the restored image.</summary>
    [RegularExpression(ContractPatterns.GitSha)] public string? ConfigRevision { get; init; }
}
