using System.Collections.Concurrent;
using Docker.DotNet;
using Microsoft.Extensions.Logging;
using Slipway.Tester.Testing;

namespace Slipway.Tester.Smoke;

/// <summary>
/// Keeps warm what a person would make again for every smoke test: the step's isolated network and its forwarder are
/// made while the run's test step runs (the engine is idle while the tests run), so the smoke step itself starts only
/// the service (issue 13: ≈ 1.3 s of the step's 2.6 s). One pair per run, for the port of the run's smoke step; the
/// forwarder reaches the service by its container name through the engine's DNS on that network, so it can exist before
/// the service does.
/// <para>Nothing is left behind: a pair is taken by the run's smoke step (which removes it with its service), or
/// discarded when the test fails (no smoke step follows), when it is not taken within
/// <see cref="TesterOptions.SmokeWarmMinutes"/> (the smoke step ran on another tester, or the run was stopped), and when
/// the tester stops; a tester killed with a pair in hand leaves it to <see cref="SmokeLeftoverSweeper"/> (it carries the
/// smoke step's labels).</para>
/// <para>A spare per port is made too: after a smoke step, once its clean-up pause is over (the engine is idle again), one
/// pair for the same port waits for the next run, which claims it when its test step starts, so its smoke step finds the
/// pair ready instead of waiting for the making (the pair made beside the test step was not always ready in time). A
/// spare not claimed within <see cref="TesterOptions.SmokeWarmMinutes"/> is removed; each is a fresh network and
/// forwarder, never one a service has used.</para>
/// </summary>
public sealed class SmokeWarmPairs(IDockerClient docker, TesterOptions options, ILogger<SmokeWarmPairs> logger) : IAsyncDisposable
{
    /// <summary>A made network and started forwarder; the service is to be named <see cref="SmokeNetwork.ServiceName"/>(<see cref="Id"/>).</summary>
    public sealed record Pair(string Id, string NetworkId, string ForwarderId, string HostPort, int ContainerPort);

    /// <summary>
    /// A pair being made: <see cref="Stop"/> cancels the making (discarded), <see cref="Expiry"/> the wait for it to expire
    /// (taken). Neither has a timer, so neither needs disposing; cancelling one twice is harmless.
    /// </summary>
    private sealed class Entry(CancellationTokenSource stop, TaskCompletionSource? go = null)
    {
        public required Task<Pair?> Making { get; init; }
        public CancellationTokenSource Stop { get; } = stop;
        public CancellationTokenSource Expiry { get; } = new();

        /// <summary>A spare's making waits for its pause or this, set when a run claims it (it is wanted now).</summary>
        public TaskCompletionSource Go { get; } = go ?? new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Most pairs kept at once: each is a network and a container on the engine.</summary>
    public const int MaxPairs = 16;

    /// <summary>Most ports with a spare at once.</summary>
    public const int MaxSpares = 2;

    private readonly ConcurrentDictionary<string, Entry> _byRun = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, Entry> _spares = new();

    // Set when the tester stops: a step that ends after that (a smoke step finishing during shutdown) makes nothing more.
    private volatile bool _closed;
    private readonly ConcurrentDictionary<Task, byte> _removals = new();

    public bool Enabled => options.SmokeWarmMinutes > 0 && !string.IsNullOrWhiteSpace(options.SmokeForwarderImage);

    /// <summary>Starts making the pair for <paramref name="runId"/>'s smoke step (once per run; returns at once).</summary>
    public void Prepare(string runId, int containerPort, IReadOnlyDictionary<string, string> labels)
    {
        if (!Enabled || _closed || containerPort is < 1 or > 65535 || _byRun.ContainsKey(runId)) return;
        if (_spares.TryRemove(containerPort, out var spare))
        {
            spare.Expiry.Cancel(); // no longer a spare: the run's own expiry starts below
            spare.Go.TrySetResult(); // still in its pause: made now
            var claimed = new Entry(spare.Stop, spare.Go) { Making = spare.Making };
            if (!_byRun.TryAdd(runId, claimed)) Track(DiscardAsync(spare.Making, spare.Stop)); // another step of the run got there first
            else
            {
                _ = ExpireAsync(_byRun, runId, claimed, $"run {runId}");
                if (_closed) Discard(runId);
            }
            return;
        }
        if (_byRun.Count + _spares.Count >= MaxPairs) return;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new CancellationTokenSource();
        var entry = new Entry(stop) { Making = MakeAsync(start.Task, containerPort, TestRunner.Labels(labels, "smoke", options.Owner), stop.Token) };
        var added = _byRun.TryAdd(runId, entry);
        if (!added) entry.Stop.Cancel(); // another step of the run got there first: this one makes nothing
        start.SetResult();
        if (!added) return;
        _ = ExpireAsync(_byRun, runId, entry, $"run {runId}");
        if (_closed) Discard(runId); // the tester began stopping meanwhile: its sweep may have missed this one
    }

    /// <summary>
    /// After a smoke step on <paramref name="containerPort"/>: a spare pair for the next run on that port, made once the
    /// step's clean-up pause is over (returns at once; nothing when one is kept or being made already).
    /// </summary>
    public void Replenish(int containerPort, IReadOnlyDictionary<string, string> labels)
    {
        if (!Enabled || _closed || containerPort is < 1 or > 65535 || _spares.ContainsKey(containerPort) || _spares.Count >= MaxSpares
            || _byRun.Count + _spares.Count >= MaxPairs) return;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new CancellationTokenSource();
        // The pause: the step's removals (SmokeCleanupDelayMs) and a second for them, so the engine serves what follows the step first.
        var pause = Task.WhenAny(go.Task, Task.Delay(TimeSpan.FromMilliseconds(options.SmokeCleanupDelayMs + 1000), stop.Token));
        var entry = new Entry(stop, go) { Making = MakeAsync(pause, containerPort, TestRunner.Labels(labels, "smoke", options.Owner), stop.Token) };
        if (!_spares.TryAdd(containerPort, entry))
        {
            stop.Cancel(); // another step got there first: this one makes nothing
            return;
        }
        _ = ExpireAsync(_spares, containerPort, entry, $"spare for port {containerPort}");
        if (_closed) Drop(_spares, containerPort); // the tester began stopping meanwhile: its sweep may have missed this one
    }

    /// <summary>Takes the entry out of <paramref name="map"/> and removes what it made (or stops the making).</summary>
    private void Drop<TKey>(ConcurrentDictionary<TKey, Entry> map, TKey key) where TKey : notnull
    {
        if (!map.TryRemove(key, out var entry)) return;
        entry.Expiry.Cancel();
        Track(DiscardAsync(entry.Making, entry.Stop));
    }

    /// <summary>
    /// The run's pair, for the smoke step to own (it removes it); null when there is none, or it could not be made.
    /// One made for another port, or whose forwarder no longer runs, is discarded.
    /// </summary>
    public async Task<Pair?> TakeAsync(string runId, int containerPort, CancellationToken ct)
    {
        if (!_byRun.TryRemove(runId, out var entry)) return null;
        entry.Expiry.Cancel(); // no longer expires
        Pair? pair;
        try
        {
            pair = await entry.Making.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Track(DiscardAsync(entry.Making, entry.Stop)); // the step was cancelled while the pair was still being made
            throw;
        }
        if (pair is null) return null;
        bool usable;
        try
        {
            usable = pair.ContainerPort == containerPort && await RunningAsync(pair.ForwarderId, ct).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Track(RemoveAsync(pair)); // cancelled, or the engine did not answer: the pair is nobody's now
            throw;
        }
        if (usable) return pair;
        Track(RemoveAsync(pair)); // made for another port, or its forwarder died (engine restart, OOM): the step makes its own
        return null;
    }

    /// <summary>Whether the forwarder still runs: a spare may have waited minutes, through an engine restart.</summary>
    private async Task<bool> RunningAsync(string forwarderId, CancellationToken ct)
    {
        try
        {
            return (await docker.Containers.InspectContainerAsync(forwarderId, ct).ConfigureAwait(false)).State is { Running: true };
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The run's pair will not be used (its test failed): removed.</summary>
    public void Discard(string runId) => Drop(_byRun, runId);

    /// <summary>Makes the pair once <paramref name="start"/> completes (after the entry is in the map, or known not to be).</summary>
    private async Task<Pair?> MakeAsync(Task start, int containerPort, Dictionary<string, string> labels, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        string? networkRef = null, forwarderRef = null;
        try
        {
            await start.ConfigureAwait(false);
            // Each engine call runs to its answer (CancellationToken.None), and the stop is checked between them: a create
            // cancelled mid-request may still happen on the engine after the removal by name found nothing (a leak).
            ct.ThrowIfCancellationRequested();
            networkRef = SmokeNetwork.NetworkName(id);
            networkRef = await SmokeNetwork.CreateNetworkAsync(docker, networkRef, labels, CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            forwarderRef = SmokeNetwork.ForwarderName(id);
            forwarderRef = await SmokeNetwork.CreateForwarderAsync(docker, options, id, labels, SmokeNetwork.ServiceName(id), containerPort, CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            var hostPort = await SmokeNetwork.StartForwarderAsync(docker, networkRef, forwarderRef, CancellationToken.None).ConfigureAwait(false);
            return new Pair(id, networkRef, forwarderRef, hostPort, containerPort);
        }
        catch (Exception e)
        {
            // Not fatal: the smoke step makes its own. What was made is removed now.
            if (e is not OperationCanceledException) logger.LogWarning(e, "Could not make a warm smoke network and forwarder");
            await RemoveRefsAsync(forwarderRef, networkRef).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Removes the entry if it is still in <paramref name="map"/> after SmokeWarmMinutes (not taken, claimed or discarded).</summary>
    private async Task ExpireAsync<TKey>(ConcurrentDictionary<TKey, Entry> map, TKey key, Entry entry, string what) where TKey : notnull
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(options.SmokeWarmMinutes), entry.Expiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // taken, claimed or discarded
        }
        if (map.TryRemove(new KeyValuePair<TKey, Entry>(key, entry)))
        {
            logger.LogInformation("Warm smoke network ({What}) not used within {Minutes} min: removed", what, options.SmokeWarmMinutes);
            Track(DiscardAsync(entry.Making, entry.Stop));
        }
    }

    /// <summary>Stops a making (or lets a made pair be) and removes what it made.</summary>
    private async Task DiscardAsync(Task<Pair?> making, CancellationTokenSource stop)
    {
        stop.Cancel();
        if (await making.ConfigureAwait(false) is { } pair) await RemoveAsync(pair).ConfigureAwait(false);
    }

    private Task RemoveAsync(Pair pair) => RemoveRefsAsync(pair.ForwarderId, pair.NetworkId);

    private async Task RemoveRefsAsync(string? forwarderRef, string? networkRef)
    {
        if (forwarderRef is not null) await TestRunner.RemoveQuietlyAsync(docker, forwarderRef, logger).ConfigureAwait(false);
        if (networkRef is not null) await TestRunner.RemoveNetworkQuietlyAsync(docker, networkRef, logger).ConfigureAwait(false);
    }

    private void Track(Task removal)
    {
        _removals[removal] = 0;
        _ = removal.ContinueWith(t => _removals.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>Removes every pair not taken, and waits (up to a minute) for the removals, so a stopping tester leaves none.</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        foreach (var runId in _byRun.Keys.ToArray()) Discard(runId);
        foreach (var port in _spares.Keys.ToArray()) Drop(_spares, port);
        var pending = _removals.Keys.ToArray();
        if (pending.Length == 0) return;
        try { await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMinutes(1)).ConfigureAwait(false); }
        catch (TimeoutException) { logger.LogWarning("{Count} warm smoke networks still being removed at shutdown; the leftover sweeper removes them", pending.Length); }
    }
}
