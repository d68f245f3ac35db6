using System.Diagnostics;
using Slipway.Embedded;

namespace Slipway.Bench.Chaos;

/// <summary>
/// One fault as it happened: what, to whom, when (seconds into the trial), and when it began and ended (the victim
/// started again, the outage over), for the recovery time.
/// </summary>
public sealed record InjectedFault(FaultKind Kind, string Target, double AtSeconds, DateTime StartedUtc, DateTime EndedUtc);

/// <summary>
/// Carries out a trial's planned faults while the changes are driven, each bounded in time; a kill-at-moment fault
/// that never sees its moment is not injected (and not counted). Every instance it stops it starts again.
/// </summary>
public sealed class FaultInjector(ChaosStack stack, string postgresDir, string kafkaDir, Action<string> log)
{
    private readonly List<InjectedFault> _injected = [];
    private readonly SemaphoreSlim _one = new(1, 1); // one fault at a time: each is its own experiment
    private readonly SemaphoreSlim _holding = new(1, 1); // one kill-after-produce armed at a time: it owns the hold file
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyList<InjectedFault> Injected { get { lock (_injected) return _injected.ToList(); } }

    public Task RunAsync(IReadOnlyList<PlannedFault> plan, CancellationToken ct) =>
        Task.WhenAll(plan.Select(f => InjectAsync(f, ct)));

    private async Task InjectAsync(PlannedFault fault, CancellationToken ct)
    {
        var holds = false;
        try
        {
            await Task.Delay(fault.At, ct);
            ServiceInstance? victim = null;
            if (FaultKinds.MomentOf(fault.Kind) is { } moment)
            {
                var (service, marker) = moment;
                // Watch both instances of the service; the first to reach the moment is the victim.
                using var seen = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var watched = service == FaultKinds.AnyService ? stack.Instances : stack.Of(service);
                if (fault.Kind == FaultKind.KillAfterProduce) await _holding.WaitAsync(ct);
                holds = fault.Kind == FaultKind.KillAfterProduce;
                var watches = watched.Select(async i =>
                    await i.WaitForLineAsync(l => l.Contains(marker, StringComparison.Ordinal), TimeSpan.FromMinutes(15), seen.Token) is null ? null : i).ToList();
                // Armed once every watcher listens: the first relay to hold an acknowledged batch is the victim.
                if (holds) await File.WriteAllTextAsync(stack.HoldAfterProduceFile, "", CancellationToken.None);
                while (watches.Count > 0 && victim is null)
                {
                    var done = await Task.WhenAny(watches);
                    watches.Remove(done);
                    victim = await done;
                }
                await seen.CancelAsync();
                if (victim is null) return;
            }
            await _one.WaitAsync(ct);
            try
            {
                int before;
                lock (_injected) before = _injected.Count;
                await ApplyAsync(fault, victim, ct);
                lock (_injected)
                    if (_injected.Count > before) _injected[^1] = _injected[^1] with { EndedUtc = DateTime.UtcNow };
            }
            finally { _one.Release(); }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            if (holds)
            {
                DisarmHold();
                _holding.Release();
            }
        }
    }

    /// <summary>The relays held by kill-after-produce go on (the victim is dead by then, or there was none).</summary>
    private void DisarmHold() => File.Delete(stack.HoldAfterProduceFile);

    private async Task ApplyAsync(PlannedFault fault, ServiceInstance? victim, CancellationToken ct)
    {
        switch (fault.Kind)
        {
            case FaultKind.KillRandom:
                await KillAndRestartAsync(stack.Instances[fault.Victim % stack.Instances.Count], fault);
                break;
            case FaultKind.KillAfterGerritPost or FaultKind.KillMidPublish or FaultKind.KillMidBuild or FaultKind.KillMidRollout
                or FaultKind.KillWhileAwaitingApproval or FaultKind.KillAfterConfigCommit:
                await KillAndRestartAsync(victim!, fault);
                break;
            case FaultKind.KillAfterProduce:
                // The victim is still holding its acknowledged batch (it cannot delete it while the file exists): the kill
                // lands between Kafka's acknowledgement and the delete. Disarmed before the restart, which would hold again.
                Record(fault.Kind, victim!.Name);
                await victim.KillHardAsync();
                DisarmHold();
                await Task.Delay(fault.Pause, CancellationToken.None);
                victim.Start();
                break;
            case FaultKind.PostgresRestart:
                Record(fault.Kind, "postgres");
                await RestartPostgresAsync(fault.Pause);
                break;
            case FaultKind.GerritUnavailable:
                Record(fault.Kind, $"gerrit REST for {fault.Pause.TotalSeconds:F0} s");
                stack.Gerrit.BeUnavailableFor(fault.Pause);
                try { await Task.Delay(fault.Pause, CancellationToken.None); }
                finally { stack.Gerrit.BeAvailable(); }
                break;
            case FaultKind.SshStreamCut:
                Record(fault.Kind, $"{stack.Gerrit.CutSshConnections()} ssh processes");
                break;
            case FaultKind.KafkaBrokerDown:
                await BrokerDownAsync(1 + fault.Victim % KafkaBrokers, fault);
                break;
            case FaultKind.RegistryDown:
                Record(fault.Kind, $"registry for {fault.Pause.TotalSeconds:F0} s");
                await RegistryDownAsync(fault.Pause);
                break;
            case FaultKind.RestartAll:
                Record(fault.Kind, "all instances");
                await RestartAllAsync();
                break;
        }
    }

    private async Task KillAndRestartAsync(ServiceInstance victim, PlannedFault fault)
    {
        Record(fault.Kind, victim.Name);
        await victim.KillHardAsync();
        await Task.Delay(fault.Pause, CancellationToken.None);
        victim.Start();
    }

    /// <summary>Every instance killed at once, then all started again: the end of a trial's stream.</summary>
    public async Task RestartAllAsync()
    {
        foreach (var instance in stack.Instances) await instance.KillHardAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        foreach (var instance in stack.Instances) instance.Start();
    }

    /// <summary>The embedded cluster's broker count (`slipway kafka`'s default, as the infrastructure starts it).</summary>
    private const int KafkaBrokers = 3;

    /// <summary>
    /// The Kafka host takes the broker named in its `broker-down` control file down and brings it back when the file
    /// goes (cli/Commands/KafkaCommand.cs); it polls every 200 ms.
    /// </summary>
    private async Task BrokerDownAsync(int broker, PlannedFault fault)
    {
        var control = Path.Combine(kafkaDir, "broker-down");
        Record(fault.Kind, $"kafka broker {broker} for {fault.Pause.TotalSeconds:F0} s");
        await File.WriteAllTextAsync(control, broker.ToString(), CancellationToken.None);
        try { await Task.Delay(fault.Pause, CancellationToken.None); }
        finally { File.Delete(control); }
        await Task.Delay(TimeSpan.FromMilliseconds(400), CancellationToken.None); // the host has seen the file go
    }

    private async Task RestartPostgresAsync(TimeSpan down)
    {
        var port = int.Parse(stack.Infra["Postgres__ConnectionString"].Split(';')
            .Select(p => p.Split('=', 2)).Single(kv => kv[0].Trim().Equals("Port", StringComparison.OrdinalIgnoreCase))[1]);
        var cluster = new PostgresCluster(postgresDir, port);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await cluster.StopAsync(cts.Token);
        await Task.Delay(down, CancellationToken.None);
        await cluster.StartAsync(null, cts.Token);
    }

    /// <summary>
    /// The embedded registry (a sibling of the Postgres directory in the infrastructure's state directory) stopped, then
    /// started again on the same port with the same credentials; state.json learns the new process, so `infra down`
    /// still stops it.
    /// </summary>
    private async Task RegistryDownAsync(TimeSpan down)
    {
        var stateDir = Path.GetDirectoryName(Path.GetFullPath(postgresDir))!;
        var stateFile = Path.Combine(stateDir, "state.json");
        var state = InfraState.Load(stateFile);
        if (state.Registry is not { } part) throw new InvalidOperationException($"no registry in {stateFile}");
        var registry = new LocalRegistry(Path.Combine(stateDir, "registry"), part.Port, part.Username, part.Password, part.Pid);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await registry.StopAsync(cts.Token);
        await Task.Delay(down, CancellationToken.None);
        await registry.StartAsync(started =>
        {
            part.Pid = started.Pid;
            state.Save(stateFile);
        }, ct: cts.Token);
    }

    private void Record(FaultKind kind, string target)
    {
        var at = _clock.Elapsed.TotalSeconds;
        lock (_injected) _injected.Add(new InjectedFault(kind, target, at, DateTime.UtcNow, DateTime.UtcNow));
        log($"  {at,6:F1} s  {FaultKinds.Name(kind)}: {target}");
    }
}
