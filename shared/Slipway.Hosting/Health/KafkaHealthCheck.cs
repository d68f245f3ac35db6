using Microsoft.Extensions.Diagnostics.HealthChecks;
using Slipway.Messaging;

namespace Slipway.Hosting.Health;

/// <summary>Ready when a Kafka broker answers a metadata request.</summary>
public sealed class KafkaHealthCheck(KafkaProducerFactory producers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var brokers = producers.CountBrokers(TimeSpan.FromSeconds(2));
            return Task.FromResult(brokers > 0
                ? HealthCheckResult.Healthy($"{brokers} brokers")
                : HealthCheckResult.Unhealthy("kafka: no brokers"));
        }
        catch (Exception e) { return Task.FromResult(HealthCheckResult.Unhealthy($"kafka: {e.Message}")); }
    }
}
