using System.Diagnostics;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Messaging;
using Slipway.Tests.Integration.EndToEnd;
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

    /// <summary>
    /// One change, one trace: the six services export to an OTLP receiver on 127.0.0.1 while a patch set runs. Every span
    /// of the run, from the gateway's ingest of Gerrit's event through the Kafka hops, each service's handlers and jobs,
    /// Docker engine calls, to the reporter's REST call that posts the verdict, has the trace id of the run's events and a parent in that trace,
    /// but the gateway's one root; the run page and the services' structured log lines show the trace id.
    /// </summary>
    [Fact]
    public async Task A_run_is_one_trace_across_the_six_services_from_the_gerrit_event_to_the_verdict()
    {
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var env = await PipelineEnvironment.StartAsync("traced", new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "300",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
            ["Logging__Json"] = "true",
        });
        var timeout = TimeSpan.FromMinutes(8);
        var upload = await env.Gerrit.Gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(env.BaseImage), "Add hello service");
        var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), timeout);
        var runId = started.RunId!;
        var traceId = ActivityContext.Parse(started.TraceParent!, null).TraceId.ToString();
        var finished = await env.PipelineEvents.WaitForAsync("the run's end", e => e.RunId == runId && e.Type == EventTypes.NameOf<RunFinished>(), timeout);
        Assert.Equal(RunOutcome.Succeeded, finished.DataAs<RunFinished>().Outcome);
        // Every event of the run carries the run's trace.
        Assert.All(env.PipelineEvents.Events.Where(e => e.RunId == runId),
            e => Assert.Equal(traceId, ActivityContext.Parse(e.TraceParent!, null).TraceId.ToString()));

        // The verdict's REST call is the last thing the run does; then the exports settle.
        List<OtlpTraceReceiver.Span> trace = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            trace = receiver.Spans.Where(s => s.TraceId == traceId).ToList();
            if (env.Gerrit.Gerrit.Reviews(upload.ChangeNumber).Any(r => r.Labels.ContainsKey("Verified"))
                && trace.Any(s => s.Service == "reporter" && s.Kind == ClientKind)) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        trace = receiver.Spans.Where(s => s.TraceId == traceId).DistinctBy(s => s.SpanId).ToList();
        // Work that outlives the verdict (the smoke step's clean-up, after its result) exports a child before its parent
        // span ends: wait, bounded, until every parent has arrived too.
        for (var settle = DateTime.UtcNow + TimeSpan.FromSeconds(30); DateTime.UtcNow < settle; await Task.Delay(500))
        {
            trace = receiver.Spans.Where(s => s.TraceId == traceId).DistinctBy(s => s.SpanId).ToList();
            var known = trace.Select(s => s.SpanId).ToHashSet();
            if (trace.All(s => s.ParentSpanId is null || known.Contains(s.ParentSpanId))) break;
        }

        Assert.Equal(["builder", "deployer", "gerrit-gateway", "publisher", "reporter", "tester"], trace.Select(s => s.Service).Distinct().Order());
        var root = Assert.Single(trace, s => s.ParentSpanId is null);
        Assert.Equal(("gerrit-gateway", "gerrit ingest patchset-created"), (root.Service, root.Name));
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        Assert.All(trace.Where(s => s != root), s => Assert.True(ids.Contains(s.ParentSpanId!), $"{s.Service} span '{s.Name}' has a parent outside the trace"));
        var byId = trace.ToDictionary(s => s.SpanId);
        OtlpTraceReceiver.Span ParentOf(OtlpTraceReceiver.Span s) => byId[s.ParentSpanId!];
        // Across processes: the builder consumes the gateway's event; the tester consumes the builder's; jobs sit under consumers.
        Assert.Contains(trace, s => s.Service == "builder" && s.Kind == ConsumerKind && ParentOf(s) == root);
        Assert.Contains(trace, s => s.Service == "tester" && s.Kind == ConsumerKind && ParentOf(s).Service == "builder");
        Assert.Contains(trace, s => s.Service == "builder" && s.Name.StartsWith("job ", StringComparison.Ordinal));
        Assert.Contains(trace, s => s.Service == "tester" && s.Name.StartsWith("job ", StringComparison.Ordinal));
        // Docker engine calls: the tester's test and smoke-test containers.
        Assert.Contains(trace, s => s.Service == "tester" && s.Kind == ClientKind && s.Name.StartsWith("docker Containers.", StringComparison.Ordinal));
        // Gerrit's REST API, called from the reporter's comment jobs (the start and the verdict).
        Assert.Contains(trace, s => s.Service == "reporter" && s.Kind == ClientKind && s.Name.StartsWith("POST", StringComparison.Ordinal)
            && ParentOf(s) is { Service: "reporter" } job && job.Name.StartsWith("job ", StringComparison.Ordinal));

        // The run page and the services' structured logs name the trace.
        using var http = new HttpClient();
        Assert.Contains(traceId, await http.GetStringAsync($"{env.UrlOf("reporter")}/runs/{runId}"));
        foreach (var service in new[] { "builder", "tester", "reporter" })
            Assert.Contains($"\"TraceId\":\"{traceId}\"", env[service].Output);
    }

    private const int ConsumerKind = 5, ClientKind = 3;
}
