namespace Slipway.Storage.Retention;

/// <summary>Configuration section <c>Retention</c>: how long bookkeeping rows of finished work are kept, and how often they are pruned.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>
    /// Rows older than this are pruned (inbox, finished jobs, finished runs' state, the gateway's seen events). It must
    /// be longer than any redelivery: an event read again after its inbox row is gone would be handled again.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Time between prunes (the first runs shortly after start-up).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted per statement, so a prune never holds long locks.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>One line per problem, naming the key (the host checks it at start-up).</summary>
    public IEnumerable<string> Validate()
    {
        if (Window < TimeSpan.FromDays(1) || Window > TimeSpan.FromDays(3650))
            yield return "Retention:Window must be between 1.00:00:00 (one day, longer than any redelivery) and 3650.00:00:00";
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromDays(1))
            yield return "Retention:Interval must be between 00:00:01 and 1.00:00:00";
        if (BatchSize is < 1 or > 1_000_000) yield return "Retention:BatchSize must be between 1 and 1000000";
    }
}
