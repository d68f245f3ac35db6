using Slipway.Hosting;

namespace Slipway.Runs;

/// <summary>Configuration section <c>Runs</c>: when a run whose next event never comes is given up.</summary>
public sealed class RunOptions : IValidatableOptions
{
    public const string Section = "Runs";

    /// <summary>
    /// A run with no new event for this long is failed (with a reason, through <c>run.finished</c>). Must be longer than
    /// the longest step (a build or test emits nothing between its started and finished events).
    /// </summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The same for a run whose last event asked a human for approval (people take weekends).</summary>
    public TimeSpan AwaitingApprovalStuckAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often open runs are checked.</summary>
    public TimeSpan StuckCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    public IEnumerable<string> Validate()
    {
        if (StuckAfter < TimeSpan.FromMinutes(1) || StuckAfter > TimeSpan.FromDays(30))
            yield return "Runs:StuckAfter must be between 00:01:00 and 30.00:00:00";
        if (AwaitingApprovalStuckAfter < StuckAfter || AwaitingApprovalStuckAfter > TimeSpan.FromDays(90))
            yield return "Runs:AwaitingApprovalStuckAfter must be at least Runs:StuckAfter and at most 90.00:00:00";
        if (StuckCheckInterval < TimeSpan.FromSeconds(1) || StuckCheckInterval > TimeSpan.FromHours(1))
            yield return "Runs:StuckCheckInterval must be between 00:00:01 and 01:00:00";
    }
}
