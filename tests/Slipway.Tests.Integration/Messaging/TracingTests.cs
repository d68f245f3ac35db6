using System.Diagnostics;
using Slipway.Messaging;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Messaging;

public sealed class TracingTests
{
    [Fact]
    public async Task One_trace_id_spans_the_producer_the_consumer_and_the_events_it_emits()
    {
        await using var env = new ProbeEnvironment();
        env.StartProbe("traced", new Dictionary<string, string?> { ["Probe__Echo"] = "true" });

        using var producerSpan = new Activity("test produce").SetIdFormat(ActivityIdFormat.W3C).Start();
        var traceId = producerSpan.TraceId.ToString();
        await env.Kafka.ProduceAsync(env.InTopic, "change-1", ProbeEnvironment.ProbeEvent("change-1", 1), producerSpan.Id);

        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.handled", 1, TimeSpan.FromSeconds(90));
        Assert.Equal(traceId, await env.QueryScalarAsync<string>("SELECT trace_id FROM $schema$.handled"));

        var echo = Assert.Single(KafkaTestClient.ReadAll(env.OutTopic, 1, TimeSpan.FromSeconds(30)));
        var traceParent = KafkaTestClient.Header(echo, KafkaHeaderNames.TraceParent);
        Assert.NotNull(traceParent);
        Assert.Equal(traceId, ActivityContext.Parse(traceParent, null).TraceId.ToString());
        Assert.NotEqual(producerSpan.SpanId.ToString(), ActivityContext.Parse(traceParent, null).SpanId.ToString());
        Assert.Equal(traceParent, Slipway.Contracts.EventEnvelope.Parse(echo.Message.Value).TraceParent);
    }
}
