using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Slipway.Builder.Building.BuildKit.Protocol;

namespace Slipway.Builder.Building.BuildKit;

/// <summary>
/// Reads the engine's BuildKit messages: <c>moby.buildkit.trace</c> (a base64 <c>StatusResponse</c> with steps,
/// their state and output), <c>moby.image.id</c> and the final error. Writes a plain log as <c>docker build
/// --progress=plain</c> does (<c>#3 [2/4] RUN ...</c>, the step's output prefixed <c>#3</c>, then <c>#3 DONE 1.2s</c>,
/// <c>#3 CACHED</c> or <c>#3 ERROR: ...</c>) and keeps each step's name, cached flag, timing and output tail.
/// Called from one thread (the reader of the engine's response).
/// </summary>
internal sealed class BuildKitProgress(BuildOutputLog log)
{
    /// <summary>Most steps tracked; a Dockerfile compiled from a bounded Blubber file stays far below.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Longest unterminated output line kept before it is written as a line of its own.</summary>
    private const int MaxPartialChars = 64 * 1024;

    private const int StepTailLines = 50;

    private readonly Dictionary<string, StepState> _steps = new(StringComparer.Ordinal);
    private readonly List<StepState> _order = [];
    private readonly HashSet<string> _statusesDone = new(StringComparer.Ordinal);

    private sealed class StepState(int number, string digest)
    {
        public int Number { get; } = number;
        public string Digest { get; } = digest;
        public string Name { get; set; } = "";
        public bool Announced { get; set; }
        public bool Finished { get; set; }
        public bool Cached { get; set; }
        public string? Error { get; set; }
        public DateTime? Started { get; set; }
        public DateTime? Completed { get; set; }
        public StringBuilder Partial { get; } = new();
        public Queue<string> Tail { get; } = new();
    }

    /// <summary>The image id from <c>moby.image.id</c>, <c>sha256:…</c>.</summary>
    public string? ImageId { get; private set; }

    /// <summary>The engine's final error message (the failed step's error, or why the build could not start).</summary>
    public string? Error { get; private set; }

    /// <summary>The first step that reported an error.</summary>
    public BuildStep? FailedStep => _order.FirstOrDefault(s => s.Error is not null) is { } s ? ToStep(s) : null;

    /// <summary>The failed step's name line, last output lines and error, for the result's tail.</summary>
    public string? FailedStepOutput()
    {
        if (_order.FirstOrDefault(s => s.Error is not null) is not { } s) return null;
        return string.Join('\n', [$"#{s.Number} {s.Name}", .. s.Tail.Select(l => $"#{s.Number} {l}"), $"#{s.Number} ERROR: {s.Error}"]);
    }

    /// <summary>Every step seen, in the order BuildKit reported them.</summary>
    public IReadOnlyList<BuildStep> Steps => _order.Select(ToStep).ToList();

    public void OnMessage(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object) return;
        var id = message.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        if (message.TryGetProperty("aux", out var aux))
        {
            if (id == "moby.buildkit.trace" && aux.ValueKind == JsonValueKind.String && aux.TryGetBytesFromBase64(out var bytes))
                OnStatus(ParseStatus(bytes));
            else if (id == "moby.image.id" && aux.ValueKind == JsonValueKind.Object && aux.TryGetProperty("ID", out var imageId)
                     && imageId.GetString() is { } s && s.StartsWith("sha256:", StringComparison.Ordinal))
                ImageId = s;
        }
        if (message.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.String) log.Write(stream.GetString()!);
        var error = message.TryGetProperty("errorDetail", out var detail) && detail.ValueKind == JsonValueKind.Object
                    && detail.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()
            : message.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (!string.IsNullOrWhiteSpace(error))
        {
            Error ??= error.Trim();
            log.Note("ERROR: " + error.Trim());
        }
    }

    private static StatusResponse ParseStatus(byte[] bytes)
    {
        try
        {
            return StatusResponse.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new IOException($"the engine sent a build status that is not BuildKit's: {e.Message}", e);
        }
    }

    private void OnStatus(StatusResponse status)
    {
        foreach (var v in status.Vertexes)
        {
            if (Step(v.Digest) is not { } step) continue;
            if (v.Name.Length > 0) step.Name = Printable(v.Name, 1000);
            if (v.Started is not null) step.Started ??= v.Started.ToDateTime();
            if (!step.Announced && (v.Started is not null || v.Cached)) Announce(step);
            if (step.Finished) continue;
            if (v.Cached)
            {
                step.Cached = step.Finished = true;
                log.Note($"#{step.Number} CACHED");
            }
            else if (v.Error.Length > 0)
            {
                Flush(step);
                step.Error = Printable(v.Error, 4000);
                step.Completed = v.Completed?.ToDateTime();
                step.Finished = true;
                log.Note($"#{step.Number} ERROR: {step.Error}");
            }
            else if (v.Completed is not null)
            {
                Flush(step);
                step.Completed = v.Completed.ToDateTime();
                step.Finished = true;
                log.Note($"#{step.Number} DONE {Seconds(step)}");
            }
        }
        foreach (var s in status.Statuses)
        {
            if (s.Completed is null || Step(s.Vertex) is not { } step || !_statusesDone.Add(s.Vertex + "\n" + s.ID) || _statusesDone.Count > MaxSteps * 4) continue;
            var size = s.Total > 0 ? $" {s.Current}/{s.Total}" : s.Current > 0 ? $" {s.Current}" : "";
            log.Note($"#{step.Number} {Printable(s.ID, 500)}{size} done");
        }
        foreach (var l in status.Logs)
        {
            if (Step(l.Vertex) is not { } step) continue;
            if (!step.Announced) Announce(step);
            Output(step, l.Msg);
        }
        foreach (var w in status.Warnings)
            if (Step(w.Vertex) is { } step)
                log.Note($"#{step.Number} WARNING: {Printable(w.Short.ToStringUtf8(), 1000)}");
    }

    private StepState? Step(string digest)
    {
        if (_steps.TryGetValue(digest, out var step)) return step;
        if (_order.Count >= MaxSteps) return null;
        step = new StepState(_order.Count + 1, digest);
        _steps[digest] = step;
        _order.Add(step);
        return step;
    }

    private void Announce(StepState step)
    {
        step.Announced = true;
        log.Note($"#{step.Number} {step.Name}");
    }

    private void Output(StepState step, ByteString msg)
    {
        // Output is decoded per message; BuildKit splits at write boundaries, so a split UTF-8 sequence shows as U+FFFD.
        foreach (var c in msg.ToStringUtf8())
        {
            if (c == '\n' || step.Partial.Length >= MaxPartialChars)
            {
                Line(step, step.Partial.ToString().TrimEnd('\r'));
                step.Partial.Clear();
                if (c == '\n') continue;
            }
            step.Partial.Append(c);
        }
    }

    private void Flush(StepState step)
    {
        if (step.Partial.Length == 0) return;
        Line(step, step.Partial.ToString().TrimEnd('\r'));
        step.Partial.Clear();
    }

    private void Line(StepState step, string line)
    {
        step.Tail.Enqueue(line);
        if (step.Tail.Count > StepTailLines) step.Tail.Dequeue();
        log.Note($"#{step.Number} {line}");
    }

    private static BuildStep ToStep(StepState s) => new(s.Number, s.Name, s.Cached, s.Started is { } a && s.Completed is { } b ? b - a : null, s.Error);

    private static string Seconds(StepState s) =>
        s.Started is { } a && s.Completed is { } b ? $"{Math.Max(0, (b - a).TotalSeconds):0.0}s" : "";

    private static string Printable(string s, int max)
    {
        var chars = s.Length > max ? s[..max] + "…" : s;
        return new string(chars.Select(c => c is '\n' or '\r' or '\t' ? ' ' : char.IsControl(c) ? '?' : c).ToArray());
    }
}

/// <summary>One step of a BuildKit build as its status stream reported it.</summary>
/// <param name="Number">Its number in the log (<c>#3</c>), in the order BuildKit first reported it.</param>
/// <param name="Name">BuildKit's name for it, e.g. <c>[2/4] RUN apt-get update</c> or <c>[internal] load build context</c>.</param>
/// <param name="Cached">Served from the layer cache, not run.</param>
/// <param name="Duration">From start to completion; null when it never ran (cached) or never finished.</param>
/// <param name="Error">Why it failed; null when it did not.</param>
public sealed record BuildStep(int Number, string Name, bool Cached, TimeSpan? Duration, string? Error);
