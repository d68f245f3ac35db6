using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench.Chaos;

/// <summary>
/// Drives one trial's stream of changes through Gerrit and the deployer's API, as people would: per change a patch
/// set, on the first a recheck, then the merge and the production approval; at the end, with two releases in
/// production, a manual rollback. Every wait is bounded; a wait that runs out is not an error here (the effect check
/// decides what was lost or stuck), the stream goes on.
/// </summary>
public sealed class ChangeDriver(ChaosStack stack, string project, Action<string> log)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public List<Trigger> Triggers { get; } = [];
    public bool RollbackRequested { get; private set; }
    public string Service => project.Split('/')[^1];

    public async Task RunAsync(int changes, CancellationToken ct)
    {
        var gerrit = stack.Gerrit;
        await gerrit.CreateProjectAsync(project, ct: ct);
        var released = 0;
        for (var i = 0; i < changes; i++)
        {
            var files = SampleProject.Files(stack.Infra["Slipway__BaseImage"]).ToDictionary();
            files["CHANGELOG"] = $"change {i}\n";
            var upload = await gerrit.UploadPatchsetAsync(project, "master", files, $"Change {i}", ct: ct);
            Triggers.Add(new Trigger(TriggerKind.Patchset, upload.ChangeNumber, upload.PatchSet));
            await WaitForRunEndAsync(Triggers[^1], ct);
            if (i == 0)
            {
                await gerrit.CommentAsync(upload.ChangeNumber, "recheck", ct: ct);
                Triggers.Add(new Trigger(TriggerKind.Recheck, upload.ChangeNumber, upload.PatchSet));
                await WaitForRunEndAsync(Triggers[^1], ct);
            }
            var merged = await gerrit.MergeAsync(upload.ChangeNumber, ct: ct);
            var merge = new Trigger(TriggerKind.Merge, upload.ChangeNumber, upload.PatchSet, merged);
            Triggers.Add(merge);
            if (await RunOfAsync(merge, StepTimeout, ct) is { } run)
            {
                if (await WaitAsync(e => e.RunId == run && e.Type == EventTypes.NameOf<ApprovalRequested>(), StepTimeout, ct) is not null)
                {
                    try
                    {
                        await stack.DeployerAsync(HttpMethod.Post, $"/api/runs/{run}/approve?environment=production", TimeSpan.FromMinutes(3), ct);
                    }
                    catch (InvalidOperationException e) { log($"  approval of {run} failed: {e.Message}"); }
                }
                if (await WaitForRunEndAsync(merge, ct) == RunOutcome.Succeeded) released++;
            }
        }
        if (released >= 2)
        {
            try
            {
                await stack.DeployerAsync(HttpMethod.Post, $"/api/services/{Service}/rollback?environment=production", TimeSpan.FromMinutes(3), ct);
                RollbackRequested = true;
            }
            catch (InvalidOperationException e) { log($"  rollback failed: {e.Message}"); }
        }
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
