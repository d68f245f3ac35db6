using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Slipway.Tests.Integration.Support;

/// <summary>
/// An OTLP/HTTP (protobuf) trace receiver on 127.0.0.1, for tests: the services export to it as to any collector
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>) and it keeps every span.
/// Requests are decoded with Google.Protobuf's wire reader by the field numbers of OTLP's trace.proto
/// (ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span); metrics and logs are accepted and dropped.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    public sealed record Span(string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Span> _spans = new();

    public string Endpoint { get; }

    public IReadOnlyList<Span> Spans => _spans.ToArray();

    private OtlpTraceReceiver(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var port = Slipway.Embedded.FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app, $"http://127.0.0.1:{port}");
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in Decode(body.ToArray())) receiver._spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf"); // an empty ExportTraceServiceResponse
        });
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>ExportTraceServiceRequest: 1 resource_spans.</summary>
    public static IEnumerable<Span> Decode(byte[] request)
    {
        var spans = new List<Span>();
        foreach (var (field, resourceSpans) in Fields(request))
            if (field == 1) spans.AddRange(ResourceSpans(resourceSpans));
        return spans;
    }

    // ResourceSpans: 1 resource, 2 scope_spans. Resource: 1 attributes (KeyValue: 1 key, 2 value; AnyValue: 1 string_value).
    private static IEnumerable<Span> ResourceSpans(byte[] message)
    {
        var service = "";
        var scopes = new List<byte[]>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
                foreach (var (f, attribute) in Fields(value))
                    if (f == 1 && Attribute(attribute) is ("service.name", var name)) service = name;
            if (field == 2) scopes.Add(value);
        }
        foreach (var scope in scopes)
            foreach (var (field, span) in Fields(scope))
                if (field == 2) yield return SpanOf(service, span);
    }

    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind.
    private static Span SpanOf(string service, byte[] message)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = 0;
        var input = new CodedInputStream(message);
        while (input.ReadTag() is var tag and not 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4: parent = input.ReadBytes().ToByteArray() is { Length: > 0 } p ? Convert.ToHexStringLower(p) : null; break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new Span(service, traceId, spanId, parent, name, kind);
    }

    private static (string Key, string Value) Attribute(byte[] keyValue)
    {
        string key = "", value = "";
        foreach (var (field, bytes) in Fields(keyValue))
        {
            if (field == 1) key = System.Text.Encoding.UTF8.GetString(bytes);
            if (field == 2)
                foreach (var (f, v) in Fields(bytes))
                    if (f == 1) value = System.Text.Encoding.UTF8.GetString(v);
        }
        return (key, value);
    }

    /// <summary>The length-delimited fields of a message (field number, bytes); others are skipped.</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var input = new CodedInputStream(message);
        while (input.ReadTag() is var tag and not 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            else
                input.SkipLastField();
        }
        return fields;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
