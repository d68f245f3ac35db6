using Slipway.Hosting;

namespace Slipway.GerritGateway;

/// <summary>Configuration section <c>Gateway</c>: reconnect pacing and dead-stream detection.</summary>
public sealed class GatewayOptions : IValidatableOptions
{
    public const string Section = "Gateway";

    public double InitialBackoffSeconds { get; set; } = 1;
    public double MaxBackoffSeconds { get; set; } = 60;

    /// <summary>SSH keepalive interval: Gerrit sends no heartbeats, so this is how a dead peer is noticed.</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// At most this many stream lines that arrived while the previous ones were written go into one transaction
    /// (1: one transaction per line, as before batching). 256: with Npgsql's auto-prepare, batches of 1,024 no longer
    /// paid (docs/benchmarks.md, "Gateway: batches of 256 again"), and a smaller batch holds less and locks shorter.
    /// </summary>
    public int StreamBatchMaxLines { get; set; } = 256;

    /// <summary>
    /// How long after a (re)connection the stream counts as subscribed when no line has come yet: `gerrit stream-events`
    /// gives no sign that it has subscribed, so a catch-up that began earlier keeps the gap open and runs again.
    /// </summary>
    public double SubscribeGraceSeconds { get; set; } = 5;

    /// <summary>Catch-up starts this long before the last event seen (eventCreatedOn has whole-second resolution).</summary>
    public double CatchUpOverlapSeconds { get; set; } = 5;

    /// <summary>Catch-up never reaches further back than this (a long outage needs an operator anyway).</summary>
    public double CatchUpMaxDays { get; set; } = 7;

    /// <summary>At most this many events are published by one catch-up.</summary>
    public int CatchUpMaxEvents { get; set; } = 10_000;

    /// <summary>At most this many projects are checked for branches moved by direct pushes in one catch-up.</summary>
    public int CatchUpMaxProjects { get; set; } = 500;

    /// <summary>At most this many branches of one project are read in one catch-up.</summary>
    public int CatchUpMaxBranchesPerProject { get; set; } = 1000;

    /// <summary>
    /// A comment from one source (REST catch-up, stream, events-log, webhook) is the same Gerrit message as a published
    /// one from another source when author, change, patch set and text agree and the times are at most this far apart
    /// (Gerrit's REST date of a message and its live event's eventCreatedOn may differ by a second or more).
    /// </summary>
    public int CommentMatchSeconds { get; set; } = 10;

    /// <summary>Secret in the webhook URL (<c>POST /webhooks/gerrit/{token}</c>); unset disables the endpoint (404).</summary>
    public string? WebhookToken { get; set; }

    public int WebhookMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>A webhook comment is confirmed only when Gerrit's message is at most this old (a replayed old comment is not).</summary>
    public int WebhookMaxAgeSeconds { get; set; } = 600;

    /// <summary>How far a webhook comment's <c>eventCreatedOn</c> may be from the message's time in Gerrit.</summary>
    public int WebhookClockSkewSeconds { get; set; } = 5;

    public IEnumerable<string> Validate()
    {
        if (CatchUpOverlapSeconds is < 0 or > 3600) yield return "Gateway:CatchUpOverlapSeconds must be between 0 and 3600";
        if (CatchUpMaxDays is <= 0 or > 30) yield return "Gateway:CatchUpMaxDays must be in (0, 30]";
        if (CatchUpMaxEvents is < 1 or > 1_000_000) yield return "Gateway:CatchUpMaxEvents must be between 1 and 1000000";
        if (CatchUpMaxProjects is < 1 or > 100_000) yield return "Gateway:CatchUpMaxProjects must be between 1 and 100000";
        if (CatchUpMaxBranchesPerProject is < 1 or > 100_000) yield return "Gateway:CatchUpMaxBranchesPerProject must be between 1 and 100000";
        if (CommentMatchSeconds is < 0 or > 300) yield return "Gateway:CommentMatchSeconds must be between 0 and 300";
        if (WebhookToken is { } t && t.Length < 16) yield return "Gateway:WebhookToken must be at least 16 characters (or unset to disable webhooks)";
        if (WebhookMaxBytes is < 1024 or > 64 * 1024 * 1024) yield return "Gateway:WebhookMaxBytes must be between 1024 and 67108864";
        if (WebhookMaxAgeSeconds is < 10 or > 86400) yield return "Gateway:WebhookMaxAgeSeconds must be between 10 and 86400";
        if (WebhookClockSkewSeconds is < 0 or > 300) yield return "Gateway:WebhookClockSkewSeconds must be between 0 and 300";
        if (InitialBackoffSeconds is <= 0 or > 3600) yield return "Gateway:InitialBackoffSeconds must be in (0, 3600]";
        if (MaxBackoffSeconds < InitialBackoffSeconds || MaxBackoffSeconds > 86400) yield return "Gateway:MaxBackoffSeconds must be between Gateway:InitialBackoffSeconds and 86400";
        if (StreamBatchMaxLines is < 1 or > 10_000) yield return "Gateway:StreamBatchMaxLines must be between 1 and 10000";
        if (SubscribeGraceSeconds is < 0.1 or > 300) yield return "Gateway:SubscribeGraceSeconds must be between 0.1 and 300";
        if (KeepAliveSeconds is < 1 or > 3600) yield return "Gateway:KeepAliveSeconds must be between 1 and 3600";
    }
}
