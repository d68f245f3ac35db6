using Slipway.Hosting;

namespace Slipway.Builder.Building;

/// <summary>
/// The builder's part of configuration section <c>Retention</c>: how long its local files outlive the builds that wrote them.
/// (<c>Retention:Interval</c> is shared with the database retention.)
/// </summary>
public sealed class LocalFileRetentionOptions : IValidatableOptions
{
    public const string Section = "Retention";

    /// <summary>Build logs under <c>Builder:LogDir</c> older than this are deleted (a finished run's log is read within days).</summary>
    public TimeSpan BuildLogs { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// Build-context archives (<c>slipway-context-*.tar</c> in the temporary directory) older than this are deleted. A build
    /// deletes its own when it ends; one is left only by a builder killed mid-build. Must exceed the longest build.
    /// </summary>
    public TimeSpan StaleContextArchives { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// A run workspace whose run the builder does not know (its state pruned, or a run that never started) is deleted when
    /// it is older than this; a finished run's workspace goes at the next clean-up, an open run's stays.
    /// </summary>
    public TimeSpan OrphanWorkspaces { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Local images the builder built (tagged <c>slipway/&lt;project&gt;:&lt;run&gt;-&lt;step&gt;</c>) lose a run's tag when that run
    /// finished longer ago than this (or is unknown and the image is older); an image goes with its last tag.
    /// </summary>
    public TimeSpan LocalImages { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The newest this many local images of each project are never removed, whatever their runs' age: the builder does not
    /// know which image is deployed, waiting for approval or a rollback target, and this keeps the recent ones at hand.
    /// </summary>
    public int LocalImagesKeepPerProject { get; set; } = 5;

    /// <summary>Time between clean-ups (the first runs shortly after start-up).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    public IEnumerable<string> Validate()
    {
        if (BuildLogs < TimeSpan.FromHours(1) || BuildLogs > TimeSpan.FromDays(3650))
            yield return "Retention:BuildLogs must be between 01:00:00 and 3650.00:00:00";
        if (StaleContextArchives < TimeSpan.FromMinutes(10) || StaleContextArchives > TimeSpan.FromDays(30))
            yield return "Retention:StaleContextArchives must be between 00:10:00 and 30.00:00:00 (longer than the longest build)";
        if (OrphanWorkspaces < TimeSpan.FromHours(1) || OrphanWorkspaces > TimeSpan.FromDays(3650))
            yield return "Retention:OrphanWorkspaces must be between 01:00:00 and 3650.00:00:00";
        if (LocalImages < TimeSpan.FromHours(1) || LocalImages > TimeSpan.FromDays(3650))
            yield return "Retention:LocalImages must be between 01:00:00 and 3650.00:00:00";
        if (LocalImagesKeepPerProject is < 0 or > 1000)
            yield return "Retention:LocalImagesKeepPerProject must be between 0 and 1000";
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromDays(1))
            yield return "Retention:Interval must be between 00:00:01 and 1.00:00:00";
    }
}
