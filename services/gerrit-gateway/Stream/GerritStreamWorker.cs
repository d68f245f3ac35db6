using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Gerrit.Ssh;
using Slipway.Gerrit;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// Keeps a <c>gerrit stream-events</c> connection open and publishes every event it reads.
/// Reconnects with exponential backoff and jitter. A malformed line is counted and logged,
/// never fatal. After any gap (a disconnect, a restart, a <c>dropped-output</c>) the start of
/// the gap is recorded in <c>stream_state.catchup_from</c> and, once the stream is live again
/// (so nothing falls between the catch-up and the stream), <see cref="GerritCatchUp"/> recovers
/// what was missed, beside the live stream.
/// </summary>
public sealed class GerritStreamWorker(
    IOptions<GerritOptions> gerrit,
    IOptions<GatewayOptions> options,
    GerritEventWriter writer,
    GerritCatchUp catchUp,
    ILogger<GerritStreamWorker> logger) : BackgroundService
{
    private readonly Channel<bool> _catchUpSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _gapGeneration;

    // Whether the stream is surely subscribed: Gerrit subscribes the session some time after the command starts and says
    // nothing when it has, so an event between a catch-up's query and the subscription would reach neither. A catch-up
    // ends the gap only when it began after a line came on the current connection, or a grace after (re)connecting.
    private int _connection, _liveConnection = -1;
    private long _connectedAt = Stopwatch.GetTimestamp();
    private DateTimeOffset? _continueFrom; // where a catch-up cut short by its event limit continues

    // Characters of the lines read but not yet taken for writing: the reader waits above this bound (hostile lines of
    // up to GerritEventLimits.MaxLineLength each must not fill memory while Postgres is away).
    private const long MaxQueuedChars = 4L * GerritEventLimits.MaxLineLength;
    private long _queuedChars;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ssh = gerrit.Value.Ssh;
        var url = new Uri(ssh.Url!);
        var server = $"{url.Host}:{url.Port}";
        var o = options.Value;
        var backoff = TimeSpan.FromSeconds(o.InitialBackoffSeconds);
        if (!catchUp.Enabled)
            logger.LogWarning("Gerrit:Url, Gerrit:HttpUser or Gerrit:HttpPassword not set: events Gerrit emits while the stream is down will NOT be recovered (no catch-up)");
        var catchUpLoop = catchUp.Enabled ? CatchUpLoopAsync(server, stoppingToken) : Task.CompletedTask;
        await BeginGapAsync(server, "start", stoppingToken); // a restart is a gap too
        while (!stoppingToken.IsCancellationRequested)
        {
            var received = 0;
            try
            {
                var stream = new GerritSshStream(url, ssh.PrivateKeyPath!, KnownHosts.Load(ssh.KnownHostsPath!),
                    TimeSpan.FromSeconds(o.KeepAliveSeconds));
                logger.LogInformation("connecting to {Server} for stream-events", server);
                // The connection is read on its own while lines are written, so the lines that arrive during a write
                // wait here and the next write takes them all (up to Gateway:StreamBatchMaxLines) in one transaction.
                var lines = Channel.CreateBounded<string>(new BoundedChannelOptions(2 * o.StreamBatchMaxLines)
                    { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                Interlocked.Exchange(ref _queuedChars, 0);
                var reading = ReadIntoAsync(stream, lines.Writer, server, stop.Token);
                try
                {
                    var batch = new List<string>(o.StreamBatchMaxLines);
                    // Ends when the stream does, after its last lines; rethrows what ended it (a disconnect, a host key refused).
                    while (await lines.Reader.WaitToReadAsync(stoppingToken))
                    {
                        batch.Clear();
                        while (batch.Count < o.StreamBatchMaxLines && lines.Reader.TryRead(out var line))
                        {
                            batch.Add(line);
                            Interlocked.Add(ref _queuedChars, -line.Length);
                        }
                        received += batch.Count;
                        backoff = TimeSpan.FromSeconds(o.InitialBackoffSeconds); // a working stream resets the pace
                        await HandleLinesAsync(batch, server, stoppingToken);
                    }
                }
                finally
                {
                    await stop.CancelAsync();
                    try { await reading; } catch (Exception) { /* ended above, through the channel */ }
                }
                logger.LogWarning("stream-events from {Server} ended after {Count} events", server, received);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { await catchUpLoop; return; }
            catch (HostKeyMismatchException e)
            {
                logger.LogError("REFUSING {Server}: {Reason}. Check Gerrit:Ssh:KnownHostsPath.", server, e.Message);
            }
            catch (Exception e)
            {
                logger.LogWarning("stream-events from {Server} failed: {Error}", server, e.Message);
            }

            await BeginGapAsync(server, "disconnect", stoppingToken);
            GatewayTelemetry.Reconnects.Add(1);
            var delay = backoff * (0.5 + Random.Shared.NextDouble() / 2);
            logger.LogInformation("reconnecting to {Server} in {Delay:F1} s", server, delay.TotalSeconds);
            try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { await catchUpLoop; return; }
            backoff = TimeSpan.FromSeconds(Math.Min(o.MaxBackoffSeconds, backoff.TotalSeconds * 2));
        }
    }

    /// <summary>Reads the connection's lines into <paramref name="lines"/> until it ends; completes it with what ended it.</summary>
    private async Task ReadIntoAsync(GerritSshStream stream, ChannelWriter<string> lines, string server, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            var proven = false;
            await foreach (var line in stream.ReadLinesAsync(() =>
            {
                logger.LogInformation("stream-events connected to {Server}", server);
                Volatile.Write(ref _connectedAt, Stopwatch.GetTimestamp());
                Interlocked.Increment(ref _connection);
                _catchUpSignal.Writer.TryWrite(true); // live again: now recover what the gap hid
            }, ct))
            {
                if (!proven)
                {
                    // A line came: the session is subscribed, so a catch-up from now on misses nothing before it.
                    proven = true;
                    Volatile.Write(ref _liveConnection, Volatile.Read(ref _connection));
                    _catchUpSignal.Writer.TryWrite(true);
                }
                // One line always passes (as long as the writer takes lines, the reader moves on).
                while (Interlocked.Read(ref _queuedChars) > 0 && Interlocked.Read(ref _queuedChars) + line.Length > MaxQueuedChars)
                    await Task.Delay(5, ct);
                Interlocked.Add(ref _queuedChars, line.Length);
                await lines.WriteAsync(line, ct);
            }
            lines.TryComplete();
        }
        catch (Exception e)
        {
            lines.TryComplete(e);
        }
    }

    /// <summary>
    /// Writes lines that were waiting together, in their order: runs of events in one transaction each; a malformed line
    /// is skipped; a <c>dropped-output</c> ends the run before it, begins its gap and is written on its own, as before.
    /// </summary>
    private async Task HandleLinesAsync(List<string> lines, string server, CancellationToken ct)
    {
        var run = new List<GerritEvent>(lines.Count);
        foreach (var line in lines)
        {
            GerritEvent parsed;
            try
            {
                parsed = GerritEventParser.Parse(line, GerritEventSource.Stream, DateTimeOffset.UtcNow);
            }
            catch (GerritEventFormatException e)
            {
                GatewayTelemetry.Malformed.Add(1);
                logger.LogWarning("malformed line from {Server} skipped ({Length} chars): {Reason}", server, line.Length, e.Message);
                continue;
            }
            if (parsed.Type == "dropped-output")
            {
                await WriteRunAsync(run, server, ct);
                logger.LogWarning("Gerrit dropped events for this connection (dropped-output): catching up");
                await BeginGapAsync(server, "dropped-output", ct);
                _catchUpSignal.Writer.TryWrite(true);
            }
            run.Add(parsed);
            if (parsed.Type == "dropped-output") await WriteRunAsync(run, server, ct);
        }
        await WriteRunAsync(run, server, ct);
    }

    private async Task WriteRunAsync(List<GerritEvent> run, string server, CancellationToken ct)
    {
        if (run.Count == 0) return;
        var fresh = await WriteUntilStoredAsync(run, server, ct);
        if (run.Count > 1) logger.LogInformation("{Count} stream events written in one transaction", run.Count);
        if (!logger.IsEnabled(LogLevel.Information)) { run.Clear(); return; } // spares each event's key and boxing
        for (var i = 0; i < run.Count; i++)
            logger.LogInformation("{Type} {Subject} {Outcome}", run[i].Type, PartitionKeys.For(run[i]), fresh[i] ? "published" : "duplicate dropped");
        run.Clear();
    }

    /// <summary>
    /// Writes live events (one transaction), trying again (with backoff) while the database is away instead of ending the
    /// stream: the events are held, not dropped. Its gap is remembered at once, so if the gateway stops
    /// meanwhile the restart catches up from before it, and once written the catch-up runs over the blip.
    /// </summary>
    private async Task<bool[]> WriteUntilStoredAsync(IReadOnlyList<GerritEvent> events, string server, CancellationToken ct)
    {
        var parsed = events[0];
        var o = options.Value;
        var delay = TimeSpan.FromSeconds(o.InitialBackoffSeconds);
        var failed = false;
        for (var tries = 1; ; tries++)
        {
            try
            {
                var fresh = await writer.WriteBatchAsync(events, server, ct);
                if (failed)
                {
                    logger.LogInformation("{Type} {Subject} and {More} later event(s) stored after {Tries} tries; catching up over the blip",
                        parsed.Type, PartitionKeys.For(parsed), events.Count - 1, tries);
                    _catchUpSignal.Writer.TryWrite(true);
                }
                return fresh;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not GerritEventFormatException)
            {
                if (!failed)
                {
                    failed = true;
                    Interlocked.Increment(ref _gapGeneration); // a catch-up running now must not close this gap
                    writer.RememberGap(server);
                }
                GatewayTelemetry.WriteFailures.Add(1);
                logger.LogWarning("could not store {Type} {Subject} and {More} later event(s) (try {Tries}): {Error}; holding the stream and trying again in {Delay:F1} s",
                    parsed.Type, PartitionKeys.For(parsed), events.Count - 1, tries, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromSeconds(Math.Min(o.MaxBackoffSeconds, delay.TotalSeconds * 2));
            }
        }
    }

    /// <summary>Records where the catch-up must start (the mark now, unless an earlier gap is pending).</summary>
    private async Task BeginGapAsync(string server, string why, CancellationToken ct)
    {
        Interlocked.Increment(ref _gapGeneration);
        Volatile.Write(ref _liveConnection, -1); // not subscribed until the next connection proves it
        Volatile.Write(ref _connectedAt, Stopwatch.GetTimestamp());
        try
        {
            var from = await writer.BeginGapAsync(server, ct);
            if (from is not null) logger.LogInformation("gap in the stream from {Server} ({Why}): catch-up from {From:u} pending", server, why, from);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            // The database is away: the writer remembers the gap and records it with the next write (or the
            // catch-up loop does, which is signalled below), so the mark cannot move past it meanwhile.
            logger.LogWarning("could not record the gap ({Why}) for {Server} yet: {Error}", why, server, e.Message);
            _catchUpSignal.Writer.TryWrite(true);
        }
    }

    /// <summary>One catch-up at a time, each time the stream is live again after a gap; retried with backoff on failure.</summary>
    private async Task CatchUpLoopAsync(string server, CancellationToken ct)
    {
        await Task.Yield();
        var retry = TimeSpan.FromSeconds(options.Value.InitialBackoffSeconds);
        var grace = TimeSpan.FromSeconds(options.Value.SubscribeGraceSeconds);
        try
        {
            await foreach (var _ in _catchUpSignal.Reader.ReadAllAsync(ct))
            {
                var generation = Volatile.Read(ref _gapGeneration);
                // Judged before the query: only a query made after the subscription may close the gap.
                var unsure = Volatile.Read(ref _liveConnection) != Volatile.Read(ref _connection)
                    ? grace - Stopwatch.GetElapsedTime(Volatile.Read(ref _connectedAt)) : TimeSpan.Zero;
                try
                {
                    // A gap that began while the database was away is recorded now, before looking for it.
                    if (writer.HasUnrecordedGap(server)) await writer.BeginGapAsync(server, ct);
                    if (await writer.PendingCatchUpAsync(server, ct) is not { } from) continue;
                    var result = await catchUp.RunAsync(server, from, ct, continuation: from == _continueFrom);
                    if (result.ResumeFrom is { } next)
                    {
                        // The event limit cut this run short: the gap stays open from where it stopped.
                        if (await writer.AdvanceGapAsync(server, from, next, ct)) _continueFrom = next;
                        _catchUpSignal.Writer.TryWrite(true);
                        continue;
                    }
                    _continueFrom = null;
                    if (unsure > TimeSpan.Zero)
                    {
                        // The stream may not have been subscribed when the query ran: keep the gap, look again later
                        // (or as soon as a line proves the subscription).
                        await Task.Delay(unsure, ct);
                        _catchUpSignal.Writer.TryWrite(true);
                        continue;
                    }
                    // A gap that began meanwhile keeps catchup_from: the next run covers it too.
                    if (Volatile.Read(ref _gapGeneration) == generation) await writer.EndGapAsync(server, from, ct);
                    retry = TimeSpan.FromSeconds(options.Value.InitialBackoffSeconds);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e)
                {
                    logger.LogWarning("catch-up for {Server} failed ({Error}); retrying in {Delay:F1} s", server, e.Message, retry.TotalSeconds);
                    await Task.Delay(retry, ct);
                    retry = TimeSpan.FromSeconds(Math.Min(options.Value.MaxBackoffSeconds, retry.TotalSeconds * 2));
                    _catchUpSignal.Writer.TryWrite(true);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }
}
