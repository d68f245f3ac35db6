using Confluent.Kafka;

namespace Slipway.Messaging;

/// <summary>
/// Client settings for short hops, shared by the producer and the consumers (kept apart from the memory and throughput
/// settings of each client's own config).
/// </summary>
internal static class KafkaLatency
{
    public static T Apply<T>(T config, KafkaOptions options) where T : ClientConfig
    {
        // Kafka requests are small and a client pipelines several on one connection (fetches, offset commits, heartbeats,
        // produce requests): with Nagle's algorithm a request waits for the ACK of the one before, which the broker may
        // delay (Linux: up to 40 ms). Each request is one write, so sending at once costs nothing.
        config.SocketNagleDisable = options.SocketNagleDisable;
        return config;
    }
}
