using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench.Chaos;

/// <summary>
/// Drives one trial's stream of changes through Gerrit and the deployer's API, as people would: per change a patch
/// set, on the first a recheck, then the merge and the production approval; at the end, with two releases in
/// production, a manual rollback. One change after the other, or (concurrent) all changes at once, each started a few
/// seconds after the one before, so their patch sets and rechecks overlap; they merge together once every change's
/// patch-set runs ended (bounded), so their merge runs, rollouts and approvals overlap too. Every wait is
/// bounded; a wait that runs out is not an error here (the effect check decides what was lost or stuck), the stream goes on.
/// </summary>
public sealed class ChangeDriver(ChaosStack stack, string project, Action<string> log)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);
    /// <summary>Between the starts of concurrent changes: their steps overlap, their merges still come in a known order.</summary>
    private static readonly TimeSpan ConcurrentStagger = TimeSpan.FromSeconds(3);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly List<Trigger> _triggers = [];
    // Merges one at a time, each recorded before the next: the triggers' merges are in Gerrit's order.
    private readonly SemaphoreSlim _merging = new(1, 1);
    // Concurrent changes merge together, once each is ready (or the wait is over): their merge runs, rollouts and
    // approvals then overlap, so rollouts queue and an older run can be superseded.
    private readonly TaskCompletionSource _allReadyToMerge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waitingToMerge;

    /// <summary>Every trigger made, merges in the order Gerrit merged them.</summary>
    public IReadOnlyList<Trigger> Triggers { get { lock (_triggers) return _triggers.ToList(); } }
    public bool RollbackRequested { get; private set; }
    public string Service => project.Split('/')[^1];

    public async Task RunAsync(int changes, bool concurrent, CancellationToken ct)
    {
        await stack.Gerrit.CreateProjectAsync(project, ct: ct);
        var released = 0;
        if (concurrent)
        {
            _waitingToMerge = changes;
            var drives = Enumerable.Range(0, changes).Select(async i =>
            {
                await Task.Delay(ConcurrentStagger * i, ct);
                return await DriveChangeAsync(i, concurrent, ct);
            }).ToList();
            released = (await Task.WhenAll(drives)).Count(r => r);
        }
        else
            for (var i = 0; i < changes; i++)
                if (await DriveChangeAsync(i, concurrent, ct)) released++;
        if (released >= 2)
        {
            try
            {
                // One request, asked again after a lost answer or a killed deployer: it rolls back once.
                await stack.DeployerAsync(HttpMethod.Post, $"/api/services/{Service}/rollback?environment=production", TimeSpan.FromMinutes(3), ct,
                    idempotencyKey: "chaos-" + Guid.NewGuid().ToString("N"));
                RollbackRequested = true;
            }
            catch (InvalidOperationException e) { log($"  rollback failed: {e.Message}"); }
        }
    }

    /// <summary>One change from patch set to production; true when its merge run succeeded.</summary>
    private async Task<bool> DriveChangeAsync(int i, bool concurrent, CancellationToken ct)
    {
        var gerrit = stack.Gerrit;
        var files = SampleProject.Files(stack.Infra["Slipway__BaseImage"]).ToDictionary();
        // Concurrent changes all start from the same tip: each its own file, so that every merge succeeds.
        files[concurrent ? $"changes/change-{i}" : "CHANGELOG"] = $"change {i}\n";
        var upload = await gerrit.UploadPatchsetAsync(project, "master", files, $"Change {i}", ct: ct);
        await WaitForRunEndAsync(Add(new Trigger(TriggerKind.Patchset, upload.ChangeNumber, upload.PatchSet)), ct);
        if (i == 0)
        {
            await gerrit.CommentAsync(upload.ChangeNumber, "recheck", ct: ct);
            await WaitForRunEndAsync(Add(new Trigger(TriggerKind.Recheck, upload.ChangeNumber, upload.PatchSet)), ct);
        }
        if (concurrent)
        {
            if (Interlocked.Decrement(ref _waitingToMerge) == 0) _allReadyToMerge.TrySetResult();
            await Task.WhenAny(_allReadyToMerge.Task, Task.Delay(StepTimeout, ct));
        }
        Trigger merge;
        await _merging.WaitAsync(ct);
        try { merge = Add(new Trigger(TriggerKind.Merge, upload.ChangeNumber, upload.PatchSet, await gerrit.MergeAsync(upload.ChangeNumber, ct: ct))); }
        finally { _merging.Release(); }
        if (await RunOfAsync(merge, StepTimeout, ct) is not { } run) return false;
        // The approval when it is asked for; a run that ends without asking (it failed before production) needs none.
        if (await WaitAsync(e => e.RunId == run && (e.Type == EventTypes.NameOf<ApprovalRequested>() || e.Type == EventTypes.NameOf<RunFinished>()),
                StepTimeout, ct) is { } next && next.Type == EventTypes.NameOf<ApprovalRequested>())
        {
            try
            {
                await stack.DeployerAsync(HttpMethod.Post, $"/api/runs/{run}/approve?environment=production", TimeSpan.FromMinutes(3), ct);
            }
            catch (InvalidOperationException e) { log($"  approval of {run} failed: {e.Message}"); }
        }
        return await WaitForRunEndAsync(merge, ct) == RunOutcome.Succeeded;
    }

    private Trigger Add(Trigger trigger)
    {
        lock (_triggers) _triggers.Add(trigger);
        return trigger;
    }

    private async Task<RunOutcome?> WaitForRunEndAsync(Trigger trigger, CancellationToken ct)
    {
        if (await RunOfAsync(trigger, StepTimeout, ct) is not { } run)
        {
            log($"  {_clock.Elapsed.TotalSeconds,6:F1} s  {trigger}: no run started within {StepTimeout.TotalMinutes} min");
            return null;
        }
        var finished = await WaitAsync(e => e.RunId == run && e.Type == EventTypes.NameOf<RunFinished>(), StepTimeout, ct);
        var outcome = finished?.DataAs<RunFinished>().Outcome;
        log($"  {_clock.Elapsed.TotalSeconds,6:F1} s  {trigger}: run {run} {outcome?.ToString().ToLowerInvariant() ?? "not finished"}");
        return outcome;
    }

    private async Task<string?> RunOfAsync(Trigger trigger, TimeSpan timeout, CancellationToken ct) =>
        (await WaitAsync(e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger is var t
                              && t.Project == project && trigger.Matches(t), timeout, ct))?.RunId;

    private async Task<EventEnvelope?> WaitAsync(Func<EventEnvelope, bool> match, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (stack.Events.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(250, ct);
        }
        return null;
    }
}
