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

    /// <summary>One line for a person: the run, the event, and what matters in it.</summary>
    public static string Describe(EventEnvelope e)
    {
        var run = e.RunId is { Length: >= 8 } id ? id[..8] : "-";
        var type = e.Type.StartsWith("slipway.", StringComparison.Ordinal) ? e.Type["slipway.".Length..] : e.Type;
        var d = e.Data;
        string? Get(string name) => d.ValueKind == JsonValueKind.Object && d.TryGetProperty(name, out var v)
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;
        var detail = type switch
        {
            _ when type.StartsWith("run.started") => PlanSummary(d),
            _ when type.StartsWith("run.finished") => $"{Get("outcome")}{(Get("reason") is { } r ? ": " + r : "")}",
            _ when type.StartsWith("publish.succeeded") => $"{d.GetProperty("image").GetProperty("uri").GetString()} tags "
                + string.Join(", ", d.GetProperty("image").GetProperty("tags").EnumerateArray().Select(t => t.GetString())),
            _ when type.StartsWith("deploy.") => $"{Get("environment")}/{Get("service")} {Get("rolloutStage")} {Get("percentage")}%"
                + (Get("reason") is { } r ? ": " + r : ""),
            _ when type.StartsWith("approval.") => $"{Get("environment")}" + (Get("reason") is { } r ? ": " + r : ""),
            _ when type.StartsWith("rollback.") => $"{Get("environment")}/{Get("service")} {Get("reason")}: {Get("detail")}",
            _ => $"{Get("step")}{(Get("reason") is { } r ? ": " + r : "")}{(Get("durationMs") is { } ms ? $" ({ms} ms)" : "")}",
        };
        return $"run {run} {type,-28} {detail}";
    }

    private static string PlanSummary(JsonElement d)
    {
        var trigger = d.GetProperty("trigger");
        var steps = d.GetProperty("plan").GetProperty("stages").EnumerateArray()
            .SelectMany(s => s.GetProperty("steps").EnumerateArray().Select(x => x.GetProperty("name").GetString()));
        return $"{trigger.GetProperty("kind").GetString()} {trigger.GetProperty("ref").GetString()}: {string.Join(" → ", steps)}";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
