namespace Slipway.Storage.Jobs;

/// <summary>Configuration section <c>Jobs</c>: how many long steps one instance runs at once, and for how long a lease holds.</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>Concurrent executors per instance (bounded: each runs one job).</summary>
    public int Executors { get; set; } = 2;

    /// <summary>A lease not renewed for this long is taken to be a dead worker's; another worker retries the job.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>How often an idle executor looks for work.</summary>
    public int PollMilliseconds { get; set; } = 200;

    /// <summary>First retry delay of a failed job; doubles per attempt.</summary>
    public double RetryDelaySeconds { get; set; } = 2;

    /// <summary>One line per problem, naming the key (the host checks it at start-up).</summary>
    public IEnumerable<string> Validate()
    {
        if (Executors is < 1 or > 256) yield return "Jobs:Executors must be between 1 and 256";
        if (LeaseSeconds is < 1 or > 86400) yield return "Jobs:LeaseSeconds must be between 1 and 86400";
        if (PollMilliseconds is < 10 or > 60000) yield return "Jobs:PollMilliseconds must be between 10 and 60000";
        if (RetryDelaySeconds is < 0 or > 3600) yield return "Jobs:RetryDelaySeconds must be between 0 and 3600";
    }
}
