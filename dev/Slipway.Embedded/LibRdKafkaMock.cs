using System.Runtime.InteropServices;

namespace Slipway.Embedded;

/// <summary>
/// Function pointers into the librdkafka that Confluent.Kafka itself loaded. Confluent.Kafka
/// wraps no mock-cluster API, and loading a second copy of librdkafka could pick a different
/// build (it falls back to centos8-librdkafka.so when libsasl2 is missing), so we bind to
/// exactly the file already mapped into this process.
/// </summary>
internal sealed unsafe class LibRdKafkaMock
{
    public const int RD_KAFKA_PRODUCER = 0;

    public string LibraryPath { get; }

    public readonly delegate* unmanaged<nint> ConfNew;
    public readonly delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int> ConfSet;
    public readonly delegate* unmanaged<int, nint, byte*, nuint, nint> New;
    public readonly delegate* unmanaged<nint, void> Destroy;
    public readonly delegate* unmanaged<nint, int, nint> MockClusterNew;
    public readonly delegate* unmanaged<nint, nint> MockClusterBootstraps;
    public readonly delegate* unmanaged<nint, byte*, int, int, int> MockTopicCreate;
    public readonly delegate* unmanaged<nint, void> MockClusterDestroy;
    public readonly delegate* unmanaged<nint, int, int> MockBrokerSetDown;
    public readonly delegate* unmanaged<nint, int, int> MockBrokerSetUp;

    private LibRdKafkaMock(string path)
    {
        LibraryPath = path;
        var lib = NativeLibrary.Load(path);
        ConfNew = (delegate* unmanaged<nint>)NativeLibrary.GetExport(lib, "rd_kafka_conf_new");
        ConfSet = (delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int>)NativeLibrary.GetExport(lib, "rd_kafka_conf_set");
        New = (delegate* unmanaged<int, nint, byte*, nuint, nint>)NativeLibrary.GetExport(lib, "rd_kafka_new");
        Destroy = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(lib, "rd_kafka_destroy");
        MockClusterNew = (delegate* unmanaged<nint, int, nint>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_new");
        MockClusterBootstraps = (delegate* unmanaged<nint, nint>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps");
        MockTopicCreate = (delegate* unmanaged<nint, byte*, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_create");
        MockClusterDestroy = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_destroy");
        MockBrokerSetDown = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_broker_set_down");
        MockBrokerSetUp = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_broker_set_up");
    }

    /// <summary>Makes Confluent.Kafka load its native library, then binds to that same file.</summary>
    public static LibRdKafkaMock Bind()
    {
        // The default librdkafka.so links libsasl2; without it Confluent.Kafka silently
        // falls back to another build. Install it first so the choice is predictable.
        DebianPackages.EnsureInstalled("libsasl2-2");
        Confluent.Kafka.Library.Load();
        var path = FindLoadedLibrary()
            ?? throw new InvalidOperationException(
                "Confluent.Kafka reported librdkafka loaded, but no librdkafka file is mapped in /proc/self/maps");
        return new LibRdKafkaMock(path);
    }

    /// <summary>The path of the mapped librdkafka, from the last column of /proc/self/maps.</summary>
    private static string? FindLoadedLibrary() =>
        File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var i and >= 0 ? line[i..].Trim() : null)
            .FirstOrDefault(p => p is not null && Path.GetFileName(p).Contains("librdkafka", StringComparison.Ordinal));
}
