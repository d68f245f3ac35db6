using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Slipway.Hosting.Health;
using Slipway.Messaging;

namespace Slipway.Hosting;

public static class HealthEndpoints
{
    private static readonly DateTimeOffset StartedAt = DateTimeOffset.UtcNow;

    public static IServiceCollection AddSlipwayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<KafkaHealthCheck>("kafka", tags: ["ready"]);
        return services;
    }

    /// <summary><c>/healthz</c> (the process lives), <c>/readyz</c> (Postgres and Kafka answer), <c>/_info</c>, <c>/metrics</c>.</summary>
    public static WebApplication MapSlipwayEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = WriteReport,
        });
        app.MapGet("/_info", (SlipwayServiceDefinition definition, TopicNames topics, IOptions<KafkaOptions> kafka,
            IEnumerable<ConsumerRegistration> consumers, IServiceProvider sp) => Results.Json(new
        {
            name = definition.Name,
            version = SlipwayService.Version,
            commit = Environment.GetEnvironmentVariable("SLIPWAY_COMMIT"),
            startedAt = StartedAt,
            host = Environment.MachineName,
            pid = Environment.ProcessId,
            schema = definition.Schema,
            consumerGroup = kafka.Value.ConsumerGroup ?? definition.Name,
            consumers = consumers.Select(c => new
            {
                name = c.Name,
                topics = c.LogicalTopics.Select(topics.Resolve),
                assigned = sp.GetRequiredKeyedService<KafkaConsumerHost>(c.Name).IsAssigned,
            }),
        }));
        return app;
    }

    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
        }));
    }
}
