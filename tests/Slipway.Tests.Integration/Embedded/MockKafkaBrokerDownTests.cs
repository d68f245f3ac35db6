using Confluent.Kafka;
using Slipway.Embedded;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>
/// The fault campaign's Kafka outage: a broker of the embedded mock cluster taken down refuses producers, and
/// brought back up it accepts them again (the same producer, which reconnects).
/// </summary>
public sealed class MockKafkaBrokerDownTests
{
    [Fact]
    public async Task A_broker_taken_down_refuses_a_produce_and_accepts_it_again_once_brought_back()
    {
        using var cluster = new MockKafkaCluster(brokers: 1, partitions: 1, topicPrefix: $"down{Guid.NewGuid():N}.");
        var topic = $"down-test-{Guid.NewGuid():N}";
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers, MessageTimeoutMs = 3000, ReconnectBackoffMaxMs = 500,
        }).Build();
        var first = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "before" });
        Assert.Equal(PersistenceStatus.Persisted, first.Status);

        cluster.SetBrokerDown(1, down: true);
        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(
            () => producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "while down" }));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, refused.Error.Code);

        cluster.SetBrokerDown(1, down: false);
        var after = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "after" });
        Assert.Equal(PersistenceStatus.Persisted, after.Status);
        Assert.Equal(first.Offset.Value + 1, after.Offset.Value); // the refused message never reached the partition
    }

    [Fact]
    public void A_broker_id_the_cluster_does_not_have_is_an_error()
    {
        using var cluster = new MockKafkaCluster(brokers: 1, partitions: 1);
        var e = Assert.Throws<InvalidOperationException>(() => cluster.SetBrokerDown(7, down: true));
        Assert.Contains("broker 7", e.Message);
    }
}
