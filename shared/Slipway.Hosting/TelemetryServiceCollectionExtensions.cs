using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Slipway.Messaging;

namespace Slipway.Hosting;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// OpenTelemetry traces (HTTP, Npgsql, and the messaging host's consume spans, whose parents
    /// come from the <c>traceparent</c> Kafka header) and metrics. Exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; metrics are also served on <c>/metrics</c>
    /// in Prometheus' text format.
    /// </summary>
    public static IServiceCollection AddSlipwayTelemetry(this IServiceCollection services, IConfiguration configuration,
        SlipwayServiceDefinition definition)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(definition.Name, serviceVersion: SlipwayService.Version))
            .WithTracing(t =>
            {
                // Outgoing HTTP (Gerrit's REST API, the deployer's health probes, the registry) joins the trace of the work that calls it.
                t.AddSource(MessagingTelemetry.Name, "Slipway.*").AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddNpgsql();
                if (otlp) t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter(MessagingTelemetry.Name, "Slipway.Jobs", "Slipway.*").AddAspNetCoreInstrumentation();
                m.AddPrometheusExporter(); // served on /metrics
                if (otlp) m.AddOtlpExporter();
            });
        return services;
    }
}
