using System.Diagnostics;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Gerrit.Rest;
using Slipway.Gerrit;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// Recovers the events Gerrit emitted while the gateway was not listening (gerrit.md §2: the
/// stream has no replay): from the events-log plugin when the server has it (the exact events),
/// else from a REST query for changes updated since the mark, with the triggers rebuilt in
/// stream-events shape (<see cref="GerritRestCatchUp"/>). Everything goes through
/// <see cref="GerritEventWriter"/>, marked caught-up, so what the live stream also delivered is
/// dropped by id.
/// </summary>
public sealed class GerritCatchUp
{
    private const int PageSize = 100;
    // How far back along a branch the commit a merge made is looked for, and a bound on one query's changes.
    private const int MaxCommitsWalked = 500;
    private const int MaxQueryChanges = 50_000;
    private readonly GerritEventWriter _writer;
    private readonly GatewayOptions _options;
    private readonly ILogger<GerritCatchUp> _logger;
    private readonly GerritRestClient? _rest;
    private readonly string? _webUrl;

    public GerritCatchUp(IOptions<GerritOptions> gerrit, IOptions<GatewayOptions> options, GerritEventWriter writer, ILogger<GerritCatchUp> logger)
    {
        _writer = writer;
        _options = options.Value;
        _logger = logger;
        var g = gerrit.Value;
        _webUrl = g.Url;
        if (!string.IsNullOrWhiteSpace(g.Url) && !string.IsNullOrWhiteSpace(g.HttpUser) && !string.IsNullOrWhiteSpace(g.HttpPassword))
            _rest = new GerritRestClient(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, g.Url, g.HttpUser, g.HttpPassword);
    }

    /// <summary>False when Gerrit:Url/HttpUser/HttpPassword are missing: gaps cannot be recovered.</summary>
    public bool Enabled => _rest is not null;

    /// <summary>
    /// Publishes what was missed since <paramref name="mark"/>, at most <c>Gateway:CatchUpMaxEvents</c> new
    /// events per run. <see cref="CatchUpResult.ResumeFrom"/> is set when the limit cut the run short: the gap
    /// is not closed, the next run continues from there (<paramref name="continuation"/>: without the overlap).
    /// </summary>
    public async Task<CatchUpResult> RunAsync(string server, DateTimeOffset mark, CancellationToken ct, bool continuation = false)
    {
        if (_rest is null) throw new InvalidOperationException("catch-up needs Gerrit:Url, Gerrit:HttpUser and Gerrit:HttpPassword");
        var clock = Stopwatch.StartNew();
        var oldest = DateTimeOffset.UtcNow.AddDays(-_options.CatchUpMaxDays);
        var since = continuation ? mark : mark.AddSeconds(-_options.CatchUpOverlapSeconds);
        if (since < oldest)
        {
            _logger.LogWarning("catch-up for {Server}: the last event seen is {Mark:u}, older than Gateway:CatchUpMaxDays; recovering from {Since:u} only", server, mark, oldest);
            since = oldest;
        }
        GatewayTelemetry.CatchUps.Add(1);

        var (events, source) = await FetchAsync(since, ct);
        var published = 0;
        DateTimeOffset? resumeFrom = null;
        foreach (var e in events)
        {
            if (!await _writer.WriteAsync(e, server, ct)) continue; // seen before (live, or an earlier round): not counted
            published++;
            GatewayTelemetry.CaughtUp.Add(1, new KeyValuePair<string, object?>("type", e.Type), new KeyValuePair<string, object?>("source", e.Source.ToString()));
            _logger.LogInformation("{Type} {Subject} recovered ({Source})", e.Type, PartitionKeys.For(e), e.Source);
            if (published >= _options.CatchUpMaxEvents && !ReferenceEquals(e, events[^1]))
            {
                // Events are oldest first: the next run starts at this one's second (the ones published are dropped by id).
                resumeFrom = e.EventCreatedOn;
                _logger.LogWarning("catch-up for {Server}: {Max} events published (Gateway:CatchUpMaxEvents); continuing from {From:u}",
                    server, _options.CatchUpMaxEvents, resumeFrom);
                break;
            }
        }
        // Direct pushes: only once the change events are all published (a cut-short run comes back here later).
        var moved = 0;
        if (resumeFrom is null)
            foreach (var e in await new BranchTipCatchUp(_rest, _writer, _options, _logger).FindAsync(server, events.Select(e => e.Project!).Where(p => p is not null), ct))
            {
                moved++;
                if (!await _writer.WriteAsync(e, server, ct))
                {
                    // Seen live already: its tip is the one to compare with next time.
                    if (e.RefUpdate is { } r && !r.NewRev.All(c => c == '0')) await _writer.RecordTipAsync(server, e.Project!, r.RefName, r.NewRev, ct);
                    continue;
                }
                published++;
                GatewayTelemetry.CaughtUp.Add(1, new KeyValuePair<string, object?>("type", e.Type), new KeyValuePair<string, object?>("source", e.Source.ToString()));
                _logger.LogInformation("ref-updated {Project} {Ref} {Old}..{New} recovered from the branch tip", e.Project, e.RefUpdate!.RefName, e.RefUpdate.OldRev, e.RefUpdate.NewRev);
            }
        _logger.LogInformation("catch-up for {Server} since {Since:u} ({Source}): {Found} events found, {Moved} branches moved, {Published} missed ones published, in {Ms} ms",
            server, since, source, events.Count, moved, published, clock.ElapsedMilliseconds);
        return new CatchUpResult(published, resumeFrom);
    }

    private async Task<(List<GerritEvent> Events, GerritEventSource Source)> FetchAsync(DateTimeOffset since, CancellationToken ct)
    {
        string? log = null;
        try
        {
            log = await _rest!.GetEventsLogAsync(since, ct);
            if (log is null) _logger.LogInformation("events-log plugin not installed (404): catching up through the REST query");
        }
        catch (GerritRestException e)
        {
            _logger.LogWarning("events-log failed ({Error}): catching up through the REST query", e.Message);
        }
        if (log is not null) return (ParseEventsLog(log), GerritEventSource.EventsLog);

        var changes = new List<ChangeInfo>();
        var query = GerritRestCatchUp.Query(since);
        for (var start = 0; ; start += PageSize)
        {
            var page = await _rest!.QueryPageAsync(query, PageSize, start, ct, GerritRestCatchUp.QueryOptions);
            changes.AddRange(page);
            if (page.Count == 0 || !page[^1].MoreChanges) break;
            if (changes.Count >= MaxQueryChanges)
            {
                // Newest first: what is left out is the oldest part of the gap. Loud, since it may be lost.
                _logger.LogError("catch-up query since {Since:u} stopped at {Count} changes; older changes of this gap are not recovered", since, changes.Count);
                break;
            }
        }
        var submitted = changes.Where(c => c.Status == "MERGED" && GerritRestCatchUp.Seconds(c.Submitted ?? c.Updated) >= since.ToUnixTimeSeconds());
        var tips = await new MergeTipResolver(_rest!, MaxCommitsWalked, _logger).ResolveAsync(submitted, ct);
        return (GerritRestCatchUp.Synthesize(changes, since, DateTimeOffset.UtcNow, _webUrl, tips), GerritEventSource.RestCatchup);
    }

    private List<GerritEvent> ParseEventsLog(string text)
    {
        var events = new List<GerritEvent>();
        var now = DateTimeOffset.UtcNow;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            try { events.Add(GerritEventParser.Parse(line, GerritEventSource.EventsLog, now, caughtUp: true)); }
            catch (GerritEventFormatException e)
            {
                GatewayTelemetry.Malformed.Add(1);
                _logger.LogWarning("malformed events-log line skipped ({Length} chars): {Reason}", line.Length, e.Message);
            }
        }
        return events;
    }
}

/// <summary>How many new events a catch-up published, and where the next run continues when its limit cut it short.</summary>
public sealed record CatchUpResult(int Published, DateTimeOffset? ResumeFrom);
