namespace Slipway.Storage.Jobs;

/// <summary>
/// A job to record: <paramref name="DedupeKey"/> makes recording idempotent (a re-delivered event
/// records nothing new); jobs with the same <paramref name="SerialKey"/> run one at a time, oldest first.
/// </summary>
public sealed record NewJob(string Kind, string DedupeKey, string Payload, string? RunId = null, int MaxAttempts = 3,
    DateTimeOffset? NotBefore = null, string? SerialKey = null);

/// <summary>A job a worker holds the lease of; <see cref="Attempts"/> counts this attempt.</summary>
/// <see cref="TraceParent"/> is the span that recorded the job (W3C), so the job's work joins that trace.
public sealed record LeasedJob(long Id, string Kind, string DedupeKey, string? RunId, string Payload, int Attempts,
    int MaxAttempts, string LeaseOwner, string? TraceParent = null)
{
    /// <summary>True when this lease is beyond the allowed attempts (a worker kept dying on it).</summary>
    public bool Exhausted => Attempts > MaxAttempts;
}
