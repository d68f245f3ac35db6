using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Gerrit.Ssh;
using Slipway.Hosting.Options;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// Keeps a <c>gerrit stream-events</c> connection open and publishes every event it reads.
/// Reconnects with exponential backoff and jitter. A malformed line is counted and logged,
/// never fatal. Catch-up after a gap (events-log plugin, else a REST query) is not written
/// yet: events Gerrit emitted while the connection was down are not recovered.
/// </summary>
public sealed class GerritStreamWorker(
    IOptions<GerritStreamOptions> gerrit,
    IOptions<GatewayOptions> options,
    GerritEventWriter writer,
    ILogger<GerritStreamWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ssh = gerrit.Value.Gerrit.Ssh;
        var url = new Uri(ssh.Url!);
        var server = $"{url.Host}:{url.Port}";
        var o = options.Value;
        var backoff = TimeSpan.FromSeconds(o.InitialBackoffSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var received = 0;
            try
            {
                var stream = new GerritSshStream(url, ssh.PrivateKeyPath!, KnownHosts.Load(ssh.KnownHostsPath!),
                    TimeSpan.FromSeconds(o.KeepAliveSeconds));
                logger.LogInformation("connecting to {Server} for stream-events", server);
                await foreach (var line in stream.ReadLinesAsync(() => logger.LogInformation("stream-events connected to {Server}", server), stoppingToken))
                {
                    received++;
                    backoff = TimeSpan.FromSeconds(o.InitialBackoffSeconds); // a working stream resets the pace
                    await HandleLineAsync(line, server, stoppingToken);
                }
                logger.LogWarning("stream-events from {Server} ended after {Count} events", server, received);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (HostKeyMismatchException e)
            {
                logger.LogError("REFUSING {Server}: {Reason}. Check Gerrit:Ssh:KnownHostsPath.", server, e.Message);
            }
            catch (Exception e)
            {
                logger.LogWarning("stream-events from {Server} failed: {Error}", server, e.Message);
            }

            GatewayTelemetry.Reconnects.Add(1);
            var delay = backoff * (0.5 + Random.Shared.NextDouble() / 2);
            logger.LogInformation("reconnecting to {Server} in {Delay:F1} s", server, delay.TotalSeconds);
            try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromSeconds(Math.Min(o.MaxBackoffSeconds, backoff.TotalSeconds * 2));
        }
    }

    private async Task HandleLineAsync(string line, string server, CancellationToken ct)
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
            return;
        }
        if (parsed.Type == "dropped-output")
            logger.LogWarning("Gerrit dropped events for this connection (dropped-output); catch-up is not implemented yet");
        var fresh = await writer.WriteAsync(parsed, server, ct);
        logger.LogInformation("{Type} {Subject} {Outcome}", parsed.Type, PartitionKeys.For(parsed), fresh ? "published" : "duplicate dropped");
    }
}
