using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Messaging;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class ConsumerRebalanceTests
{
    [Fact]
    public async Task Rewinding_a_failed_batch_whose_partition_was_revoked_meanwhile_does_not_throw_and_rewinds_the_partitions_still_held()
    {
        var topic = TestInfrastructure.UniqueName("t") + ".rebalance";
        using var kafka = new KafkaTestClient();
        for (var i = 0; i < 3; i++) await kafka.ProduceRawAsync(topic, "k", [(byte)i]); // one partition per key: all on one

        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrap,
            GroupId = TestInfrastructure.UniqueName("g"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var partition = KafkaTestClient.ReadAll(topic, 1, TimeSpan.FromSeconds(30)).Single().TopicPartition;
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var batch = new List<ConsumeResult<string, byte[]>>();
        while (batch.Count < 3) if (consumer.Consume(TimeSpan.FromSeconds(10)) is { } r) batch.Add(r);

        // The group takes the partition away (what a rebalance's revocation does to this consumer), then the batch fails.
        consumer.Unassign();
        KafkaConsumerHost.RewindToBatchStart(consumer, batch, NullLogger.Instance);
        Assert.Empty(consumer.Assignment);

        // Still held: rewound to the batch's first offset.
        consumer.Assign(new TopicPartitionOffset(partition, batch[2].Offset));
        Assert.Equal(batch[2].Offset, consumer.Consume(TimeSpan.FromSeconds(10))!.Offset);
        KafkaConsumerHost.RewindToBatchStart(consumer, batch, NullLogger.Instance);
        Assert.Equal(batch[0].Offset, consumer.Consume(TimeSpan.FromSeconds(10))!.Offset);
    }
}
