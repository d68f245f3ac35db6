using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Runs;

/// <summary>
/// Builds of a run started before their step is due (issue 13's overlap: the production image builds while the test
/// image's entry point runs). This class only keeps them: one per run at a time, each cancellable, awaited by the real
/// step before it builds, and cancelled when a step of the run fails or the run ends. What is built and when is the
/// <see cref="BuildStepPerformer"/>'s decision; its result reaches the real step only through the reuse of identical
/// inputs, so nothing of it is visible (no event) until that step is due and announces itself.
/// </summary>
public sealed class BuildAhead(IHostApplicationLifetime lifetime, ILogger<BuildAhead> logger)
{
    private sealed record Entry(string Step, Task Build, CancellationTokenSource Cancel);

    private readonly ConcurrentDictionary<string, Entry> _running = new();

    /// <summary>Starts <paramref name="build"/> for the run's <paramref name="step"/>; false when the run already has one.</summary>
    public bool TryStart(string runId, string step, Func<CancellationToken, Task> build)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = new Entry(step, done.Task, CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping));
        if (!_running.TryAdd(runId, entry))
        {
            entry.Cancel.Dispose();
            return false;
        }
        _ = Task.Run(() => RunAsync(runId, entry, build, done));
        return true;
    }

    private async Task RunAsync(string runId, Entry entry, Func<CancellationToken, Task> build, TaskCompletionSource done)
    {
        try
        {
            await build(entry.Cancel.Token);
        }
        catch (OperationCanceledException) when (entry.Cancel.IsCancellationRequested)
        {
            logger.LogInformation("run {RunId}: build ahead of step {Step} cancelled", runId, entry.Step);
        }
        catch (Exception e)
        {
            // Only a head start: the step builds by itself when its turn comes.
            logger.LogWarning(e, "run {RunId}: build ahead of step {Step} failed", runId, entry.Step);
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<string, Entry>(runId, entry));
            entry.Cancel.Dispose();
            done.SetResult();
        }
    }

    /// <summary>Waits (until <paramref name="ct"/>) for the run's build ahead of <paramref name="step"/>, if one runs.</summary>
    public async Task WaitAsync(string runId, string step, CancellationToken ct)
    {
        if (!_running.TryGetValue(runId, out var entry) || entry.Step != step) return;
        await entry.Build.WaitAsync(ct);
    }

    /// <summary>Cancels the run's build ahead, if one runs (a step failed, the run ended).</summary>
    public void Cancel(string runId)
    {
        if (!_running.TryGetValue(runId, out var entry)) return;
        try { entry.Cancel.Cancel(); }
        catch (ObjectDisposedException) { } // it ended meanwhile
    }
}
