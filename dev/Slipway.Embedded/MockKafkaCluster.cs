using System.Runtime.InteropServices;
using System.Text;

namespace Slipway.Embedded;

/// <summary>
/// librdkafka's built-in mock cluster: real Kafka protocol on 127.0.0.1, data in memory.
/// It has no CreateTopics API; topics appear on first use, and the pipeline's own topics
/// are pre-created here so they get the requested partition count.
/// </summary>
public sealed unsafe class MockKafkaCluster : IDisposable
{
    public static readonly string[] PipelineTopics = ["gerrit.events", "pipeline.events", "pipeline.deadletter"];

    private readonly LibRdKafkaMock _lib;
    private nint _rk;
    private nint _mc;

    public string BootstrapServers { get; }
    public string LibraryPath => _lib.LibraryPath;

    public MockKafkaCluster(int brokers = 3, int partitions = 4, string topicPrefix = "")
    {
        if (brokers < 1) throw new ArgumentOutOfRangeException(nameof(brokers), "at least one broker");
        if (partitions < 1) throw new ArgumentOutOfRangeException(nameof(partitions), "at least one partition");
        _lib = LibRdKafkaMock.Bind();
        try
        {
            // The mock cluster lives inside an rd_kafka_t handle; a plain producer handle will do.
            var conf = _lib.ConfNew();
            SetConf(conf, "log_level", "4"); // warnings and errors only
            var err = stackalloc byte[512];
            _rk = _lib.New(LibRdKafkaMock.RD_KAFKA_PRODUCER, conf, err, 512);
            if (_rk == 0)
                throw new InvalidOperationException($"rd_kafka_new failed: {Marshal.PtrToStringUTF8((nint)err)}");

            _mc = _lib.MockClusterNew(_rk, brokers);
            if (_mc == 0) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
            BootstrapServers = Marshal.PtrToStringUTF8(_lib.MockClusterBootstraps(_mc))
                ?? throw new InvalidOperationException("mock cluster reported no bootstrap servers");

            var replication = Math.Min(brokers, 3);
            foreach (var topic in PipelineTopics)
            {
                var name = Encoding.UTF8.GetBytes(topicPrefix + topic + "\0");
                fixed (byte* p = name)
                {
                    var rc = _lib.MockTopicCreate(_mc, p, partitions, replication);
                    if (rc != 0)
                        throw new InvalidOperationException($"creating topic {topicPrefix + topic} failed: librdkafka error {rc}");
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes broker <paramref name="brokerId"/> (1..brokers) down (its connections closed, new ones refused) or brings it
    /// back: a broker outage for fault injection.
    /// </summary>
    public void SetBrokerDown(int brokerId, bool down)
    {
        ObjectDisposedException.ThrowIf(_mc == 0, this);
        var rc = down ? _lib.MockBrokerSetDown(_mc, brokerId) : _lib.MockBrokerSetUp(_mc, brokerId);
        if (rc != 0) throw new InvalidOperationException($"setting broker {brokerId} {(down ? "down" : "up")} failed: librdkafka error {rc}");
    }

    private void SetConf(nint conf, string name, string value)
    {
        var n = Encoding.UTF8.GetBytes(name + "\0");
        var v = Encoding.UTF8.GetBytes(value + "\0");
        var err = stackalloc byte[512];
        fixed (byte* pn = n, pv = v)
            if (_lib.ConfSet(conf, pn, pv, err, 512) != 0)
                throw new InvalidOperationException($"rd_kafka_conf_set {name}: {Marshal.PtrToStringUTF8((nint)err)}");
    }

    public void Dispose()
    {
        // The cluster must go before the handle that hosts it.
        if (_mc != 0) { _lib.MockClusterDestroy(_mc); _mc = 0; }
        if (_rk != 0) { _lib.Destroy(_rk); _rk = 0; }
    }
}
