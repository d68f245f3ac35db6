using Microsoft.Extensions.Options;
using Slipway.Contracts;

namespace Slipway.Messaging;

/// <summary>The real topic names: the defaults of <see cref="Topics"/> with <c>Kafka:TopicPrefix</c> in front.</summary>
public sealed class TopicNames(IOptions<KafkaOptions> options)
{
    private readonly string _prefix = options.Value.TopicPrefix;

    public string GerritEvents => _prefix + Topics.GerritEvents;
    public string PipelineEvents => _prefix + Topics.PipelineEvents;
    public string DeadLetter => _prefix + Topics.DeadLetter;

    public string Resolve(string logicalTopic) => _prefix + logicalTopic;
}
