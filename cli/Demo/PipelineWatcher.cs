using System.Text.Json;
using Slipway.Cli.Stack;
using Slipway.Contracts;
using Slipway.Messaging;

namespace Slipway.Cli.Demo;

/// <summary>
/// Reads <c>pipeline.events</c> as any analytics consumer would (its own consumer group, from the start),
/// prints one line per event as it arrives, and lets the demo wait for the events it expects.
/// </summary>
internal sealed class PipelineWatcher : IAsyncDisposable
{
    private readonly List<EventEnvelope> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PipelineWatcher(string bootstrapServers, string topic)
    {
        _loop = Task.Run(() =>
        {
            using var observer = new TopicObserver(bootstrapServers, topic, "slipway-demo-");
            while (!_stop.IsCancellationRequested)
            {
                if (observer.Next(TimeSpan.FromMilliseconds(200)) is not { } envelope) continue;
                lock (_events) _events.Add(envelope);
                ServiceStack.Print("pipeline.events", ConsoleColor.White, Describe(envelope));
            }
        });
    }

    public IReadOnlyList<EventEnvelope> Events { get { lock (_events) return _events.ToList(); } }

    public async Task<EventEnvelope> WaitForAsync(string what, Func<EventEnvelope, bool> match, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_events)
                if (_events.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0} s");
    }

    /// <summary>One line for a person: the run, the event, and what matters in it (read from the typed event).</summary>
    public static string Describe(EventEnvelope e)
    {
        var run = e.RunId is { Length: >= 8 } id ? id[..8] : "-";
        var type = e.Type.StartsWith("slipway.", StringComparison.Ordinal) ? e.Type["slipway.".Length..] : e.Type;
        static string Because(string? reason) => reason is null ? "" : ": " + reason;
        static string Rollout(string environment, string service, RolloutStage stage, int percentage) =>
            $"{environment}/{service} {Text(stage)} {percentage}%";
        var detail = e.Event() switch
        {
            RunStarted started => $"{Text(started.Trigger.Kind)} {started.Trigger.Ref}: "
                                  + string.Join(" → ", started.Plan.Stages.SelectMany(s => s.Steps).Select(s => s.Name)),
            RunFinished finished => Text(finished.Outcome) + Because(finished.Reason),
            PublishSucceeded published => $"{published.Image.Uri} tags {string.Join(", ", published.Image.Tags)}",
            DeployStarted d => Rollout(d.Environment, d.Service, d.RolloutStage, d.Percentage),
            DeploySucceeded d => Rollout(d.Environment, d.Service, d.RolloutStage, d.Percentage),
            DeployFailed d => Rollout(d.Environment, d.Service, d.RolloutStage, d.Percentage) + Because(d.Reason),
            ApprovalRequested a => a.Environment,
            ApprovalGranted a => a.Environment,
            ApprovalRefused a => a.Environment + Because(a.Reason),
            PromoteStarted p => $"{p.Step}: {p.Chart} into {string.Join(", ", p.Environments)}",
            PromoteSucceeded p => $"{p.Step}: {p.Chart} {p.Image.Uri}:{(p.Image.Tags.Count > 0 ? p.Image.Tags[0] : "")} recorded in "
                                  + string.Join(", ", p.ConfigRevisions.Select(r => $"{r.Key} ({r.Value[..Math.Min(12, r.Value.Length)]})")) + $" ({p.DurationMs} ms)",
            PromoteChangeOpened c => $"{c.Step}: {c.Project} change {c.Change} sets {c.Chart} to {c.Version}{(c.AlreadyOpen ? " (already open)" : "")}",
            RollbackPerformed r => $"{r.Environment}/{r.Service} {Text(r.Reason)}: {r.Detail}",
            IStepFailedEvent failed => $"{failed.Step}: {failed.Reason} ({failed.DurationMs} ms)",
            IStepFinishedEvent finished => $"{finished.Step} ({finished.DurationMs} ms)",
            IStepEvent step => step.Step,
            _ => "",
        };
        return $"run {run} {type,-28} {detail}";
    }

    // Enum values as the contract writes them (kebab-case).
    private static string Text<T>(T value) where T : struct, Enum => JsonSerializer.Serialize(value, ContractJson.Options).Trim('"');

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
