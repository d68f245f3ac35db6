using System.Text;
using Microsoft.Extensions.Options;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// <c>GET /api/stream</c>: server-sent events, one <c>run</c> event (data: the run id) whenever a run changes, for
/// live pages. Every reporter instance sees every change, whichever instance handled the event: the stream polls
/// the runs' change times in Postgres once a second. A transaction that commits after a later one can carry an
/// earlier change time, so each poll looks a few seconds back and sends only (run, time) pairs not sent yet.
/// At most <see cref="ReporterOptions.MaxLiveStreams"/> streams at once (then 503), each closed after an hour
/// (browsers reconnect by themselves).
/// </summary>
public static class LiveUpdates
{
    private static readonly TimeSpan Lookback = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxStreamAge = TimeSpan.FromHours(1);
    private static int _open;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    public static void MapLiveUpdates(this WebApplication app)
    {
        app.MapGet("/api/stream", async (HttpContext http, RunLedger ledger, IOptions<ReporterOptions> options, CancellationToken ct) =>
        {
            if (Interlocked.Increment(ref _open) > options.Value.MaxLiveStreams)
            {
                Interlocked.Decrement(ref _open);
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await http.Response.WriteAsync("too many live streams; reload later", ct);
                return;
            }
            try
            {
                http.Response.Headers.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                var filter = http.Request.Query["run"].ToString() is { Length: > 0 and <= 200 } only ? only : null;
                await http.Response.WriteAsync("retry: 3000\n\n", ct);
                await http.Response.Body.FlushAsync(ct);
                var since = await ledger.NowAsync(ct) - Lookback;
                var sent = new Dictionary<string, DateTime>(StringComparer.Ordinal);
                var until = DateTime.UtcNow + MaxStreamAge;
                while (!ct.IsCancellationRequested && DateTime.UtcNow < until)
                {
                    var changed = await ledger.ChangedSinceAsync(since, ct);
                    var text = new StringBuilder();
                    foreach (var (runId, at) in changed)
                    {
                        if (sent.TryGetValue(runId, out var last) && last >= at) continue;
                        sent[runId] = at;
                        if (filter is null || filter == runId) text.Append("event: run\ndata: ").Append(runId).Append("\n\n");
                    }
                    // Comments keep idle connections (and proxies in between) from timing out.
                    await http.Response.WriteAsync(text.Length > 0 ? text.ToString() : ": idle\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    // A full page moves on to its last change (no look-back), so a burst never pins the stream in place.
                    if (changed.Count > 0)
                        since = changed.Count == RunLedger.MaxChangesPerPoll ? changed[^1].UpdatedAt : Max(since, changed[^1].UpdatedAt - Lookback);
                    foreach (var old in sent.Where(kv => kv.Value < since).Select(kv => kv.Key).ToList()) sent.Remove(old);
                    await Task.Delay(Poll, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The browser went away.
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        });
    }
}
