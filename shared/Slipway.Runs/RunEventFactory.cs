using Slipway.Contracts;
using Slipway.Hosting;

namespace Slipway.Runs;

/// <summary>
/// Envelopes for a run's events. Ids are derived from the run, step, attempt and type, so an attempt that
/// is replayed after a crash emits the same ids and consumers drop the copies.
/// </summary>
public sealed class RunEventFactory(SlipwayServiceDefinition service)
{
    public string Source { get; } = $"slipway/{service.Name}";

    public EventEnvelope Create(string runId, IPipelineEvent data, params string[] discriminators) =>
        EventEnvelope.Create(data, Source, subject: runId, runId: runId,
            id: DeterministicId.From([runId, EventTypes.NameOf(data.GetType()), .. discriminators]));
}
