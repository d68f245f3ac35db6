using Npgsql;
using Slipway.Contracts;

namespace Slipway.Bench;

/// <summary>
/// Where a hop's time goes, from timestamps the pipeline leaves anyway: each event's own time (set as its outbox row is
/// written, just before the commit), its Kafka message's create time (the outbox relay's produce), and the consuming
/// service's inbox row (<c>handled_at</c>: the start of the consumer's transaction, right after the fetch). Per run:
/// Gerrit event → first <c>build.started</c> in six parts, and each step's <c>.succeeded</c> → the next step's
/// <c>.started</c> in three (relay, delivery, start). Collects the parts over the runs and prints their medians.
/// </summary>
public sealed class HopTrace(string postgres, PipelineStack stack)
{
    private readonly Dictionary<string, List<double>> _parts = [];

    /// <summary>The parts, in the order they happen, each with its samples (ms).</summary>
    public IReadOnlyDictionary<string, List<double>> Parts => _parts;

    /// <summary>Adds run <paramref name="runId"/>'s parts; <paramref name="emitted"/> is when the stand-in emitted its Gerrit event.</summary>
    public async Task AddRunAsync(string runId, DateTimeOffset emitted)
    {
        var events = stack.Events.Where(e => e.RunId == runId).OrderBy(e => e.Time).ToList();
        var started = events.First(e => e.Type == EventTypes.NameOf<RunStarted>());
        var firstBuild = events.First(e => e.Type == EventTypes.NameOf<BuildStarted>());
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();

        if (started.DataAs<RunStarted>().Trigger.GerritEventId is { } gerritId
            && stack.ProducedAt(gerritId) is { } gerritProduced
            && await HandledAtAsync(conn, "builder", gerritId) is { } gerritHandled
            && stack.ProducedAt(started.Id) is { } startedProduced
            && await HandledAtAsync(conn, "builder", started.Id) is { } startedHandled)
        {
            Add("trigger: stand-in emits → gateway's event produced to Kafka", gerritProduced - emitted);
            Add("trigger: produced → builder's consumer transaction", gerritHandled - gerritProduced);
            Add("trigger: consumed → run.started written (plan job: wake, lease, fetch, plan)", started.Time - gerritHandled);
            Add("trigger: run.started written → produced", startedProduced - started.Time);
            Add("trigger: produced → builder's consumer transaction (run.started)", startedHandled - startedProduced);
            Add("trigger: consumed → build.started written (step job: wake, lease, slot)", firstBuild.Time - startedHandled);
        }

        // Each step from its .started to its end (.succeeded), to set beside the same command by hand.
        static string? StepOf(EventEnvelope e) =>
            e.Data.ValueKind == System.Text.Json.JsonValueKind.Object && e.Data.TryGetProperty("step", out var s) ? s.GetString() : null;
        foreach (var end in events.Where(e => e.Type.EndsWith(".succeeded.v1", StringComparison.Ordinal) && StepOf(e) is not null))
            if (events.FirstOrDefault(e => StepOf(e) == StepOf(end) && e.Type.EndsWith(".started.v1", StringComparison.Ordinal)) is { } start)
                Add($"step: {StepOf(end)} (.started → .succeeded)", end.Time - start.Time);

        for (var k = 0; k < events.Count; k++)
        {
            if (!events[k].Type.EndsWith(".succeeded.v1", StringComparison.Ordinal)) continue;
            if (events.Skip(k + 1).FirstOrDefault(e => e.Type.EndsWith(".started.v1", StringComparison.Ordinal)
                                                        && e.Type != EventTypes.NameOf<RunStarted>()) is not { } next) continue;
            var service = next.Source[(next.Source.LastIndexOf('/') + 1)..];
            if (stack.ProducedAt(events[k].Id) is not { } produced || await HandledAtAsync(conn, service, events[k].Id) is not { } handled) continue;
            Add("step hop: .succeeded written → produced (commit, relay wake, read)", produced - events[k].Time);
            Add("step hop: produced → next service's consumer transaction", handled - produced);
            Add("step hop: consumed → next step's .started written (job wake, lease, start)", next.Time - handled);
            Add("step hop: total", next.Time - events[k].Time);
        }
    }

    /// <summary>Adds a service's parts of one piece of work of one run (<see cref="ServiceParts.Between"/>).</summary>
    public void AddParts(string work, IEnumerable<(string Part, double Ms)> parts)
    {
        foreach (var (part, ms) in parts) Add($"{work}: {part}", TimeSpan.FromMilliseconds(ms));
    }

    public void Print(TextWriter output)
    {
        output.WriteLine("where the hops' time goes:");
        foreach (var (part, samples) in _parts) output.WriteLine($"  {part}: {Stats.Describe(samples, "ms", "F1")}");
    }

    /// <summary>A part measured outside the pipeline's events (the same work by hand).</summary>
    public void AddPart(string part, TimeSpan span) => Add(part, span);

    private void Add(string part, TimeSpan span)
    {
        if (!_parts.TryGetValue(part, out var samples)) _parts[part] = samples = [];
        samples.Add(span.TotalMilliseconds);
    }

    /// <summary>When <paramref name="service"/>'s consumer recorded the event in its inbox (its transaction's start).</summary>
    private async Task<DateTimeOffset?> HandledAtAsync(NpgsqlConnection conn, string service, string eventId)
    {
        var schema = $"{stack.Prefix.TrimEnd('.')}_{service.Replace('-', '_')}";
        await using var query = new NpgsqlCommand($"SELECT min(handled_at) FROM {schema}.inbox WHERE event_id = $1", conn);
        query.Parameters.Add(new NpgsqlParameter { Value = eventId });
        return await query.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : null;
    }
}
