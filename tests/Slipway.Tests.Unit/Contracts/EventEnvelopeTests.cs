using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Slipway.Contracts;

namespace Slipway.Tests.Unit.Contracts;

public sealed class EventEnvelopeTests
{
    public static TheoryData<string> TypeNames() => new(EventTypes.All);

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Every_sample_round_trips_through_json(string typeName)
    {
        var type = EventTypes.TypeOf(typeName)!;
        var sample = Samples.For(type);
        var envelope = Samples.Envelope(sample);

        var parsed = EventEnvelope.Parse(envelope.ToUtf8Json());

        Assert.Equal(typeName, parsed.Type);
        Assert.Equal(envelope.Id, parsed.Id);
        Assert.Equal(envelope.Source, parsed.Source);
        Assert.Equal(envelope.Subject, parsed.Subject);
        Assert.Equal(envelope.Time, parsed.Time);
        Assert.Equal(envelope.RunId, parsed.RunId);
        Assert.Equal(envelope.TraceParent, parsed.TraceParent);
        var data = parsed.Data.Deserialize(type, ContractJson.Options)!;
        Assert.IsType(type, data);
        // Records compare lists by reference, so compare what they serialize to.
        Assert.True(JsonNode.DeepEquals(
                JsonSerializer.SerializeToNode(sample, type, ContractJson.Options),
                JsonSerializer.SerializeToNode(data, type, ContractJson.Options)),
            $"{typeName} changed in the round trip");
    }

    [Fact]
    public void A_record_round_trips_equal_through_DataAs()
    {
        var sample = new BuildStarted
        {
            Stage = "test", Step = "test-build", Attempt = 2, StartedAt = new DateTimeOffset(2025, 3, 14, 11, 0, 0, TimeSpan.FromHours(2)),
            Variant = "test", Project = Samples.Project, Revision = Samples.Revision,
        };
        var bytes = EventEnvelope.Create(sample, "/slipway/builder", runId: Samples.RunId).ToUtf8Json();

        var back = EventEnvelope.Parse(bytes).DataAs<BuildStarted>();

        Assert.Equal(sample, back);
        Assert.Equal(sample.StartedAt.Offset, back.StartedAt.Offset);
    }

    [Fact]
    public void Gerrit_raw_json_passes_through_unchanged()
    {
        var sample = Samples.PatchsetCreated() with
        {
            Type = "some-plugin-event",
            Raw = JsonDocument.Parse("""{"type":"some-plugin-event","weird":{"nested":[1,2,{"x":null}]},"eventCreatedOn":1741944413}""").RootElement,
        };
        var back = EventEnvelope.Parse(Samples.Envelope(sample).ToUtf8Json()).DataAs<GerritEvent>();
        Assert.True(JsonElement.DeepEquals(sample.Raw, back.Raw));
        Assert.Equal("some-plugin-event", back.Type);
    }

    [Fact]
    public void Json_uses_the_contract_conventions()
    {
        var json = Encoding.UTF8.GetString(Samples.Envelope(Samples.For(typeof(RunStarted))).ToUtf8Json());
        Assert.Contains("\"specversion\":\"1.0\"", json);
        Assert.Contains("\"runid\":", json);
        Assert.Contains("\"traceparent\":", json);
        Assert.Contains("\"datacontenttype\":\"application/json\"", json);
        Assert.Contains("\"kind\":\"merge\"", json);          // enums: kebab-case strings
        Assert.Contains("\"requestedBy\":", json);            // camelCase
        Assert.DoesNotContain("null", json);                  // nulls omitted

        var gerrit = Encoding.UTF8.GetString(Samples.Envelope(Samples.PatchsetCreated() with { Source = GerritEventSource.RestCatchup }).ToUtf8Json());
        Assert.Contains("\"source\":\"rest-catchup\"", gerrit);
        Assert.DoesNotContain("\"runid\"", gerrit);
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "", "empty" },
        { "not json at all", "not valid JSON" },
        { "{\"id\":", "not valid JSON" },
        { "[1,2,3]", "not an object" },
        { "\"just a string\"", "not an object" },
        { Envelope(e => e.Remove("id")), "missing 'id'" },
        { Envelope(e => e["id"] = ""), "'id' is empty" },
        { Envelope(e => e["id"] = 42), "'id' must be a string" },
        { Envelope(e => e["id"] = new string('x', 201)), "'id' longer than 200" },
        { Envelope(e => e.Remove("type")), "missing 'type'" },
        { Envelope(e => e.Remove("source")), "missing 'source'" },
        { Envelope(e => e["source"] = null), "missing 'source'" },
        { Envelope(e => e.Remove("specversion")), "missing 'specversion'" },
        { Envelope(e => e["specversion"] = "0.3"), "unsupported specversion '0.3'" },
        { Envelope(e => e.Remove("time")), "missing 'time'" },
        { Envelope(e => e["time"] = "yesterday"), "bad envelope attribute" },
        { Envelope(e => e.Remove("data")), "missing 'data'" },
        { Envelope(e => e["datacontenttype"] = "text/xml"), "datacontenttype" },
        { Envelope(e => e["subject"] = new JsonObject()), "'subject' must be a string" },
        { Envelope(e => e["data"] = Nested(200)), "not valid JSON" },
        { Envelope(e => e["data"] = new JsonObject { ["blob"] = new string('a', EventEnvelope.MaxSizeBytes) }), "more than the 1048576-byte limit" },
        { "{\"specversion\":\"1.0\",\"id\":\"a\",\"id\":\"b\",\"source\":\"/s\",\"type\":\"t\",\"time\":\"2025-03-14T09:26:53Z\",\"data\":{}}", "bad envelope attribute" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_rejects_malformed_input_with_a_clear_message(string json, string expected)
    {
        var e = Assert.Throws<InvalidEventException>(() => EventEnvelope.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Parse_accepts_a_minimal_envelope_and_unknown_extensions()
    {
        var parsed = EventEnvelope.Parse(Encoding.UTF8.GetBytes(
            """{"specversion":"1.0","id":"a","source":"/s","type":"slipway.future.thing.v9","time":"2025-03-14T09:26:53Z","data":{"x":1},"someextension":"y"}"""));
        Assert.Equal("slipway.future.thing.v9", parsed.Type);
        Assert.Null(parsed.RunId);
        Assert.Null(EventTypes.TypeOf(parsed.Type)); // consumers skip types they do not know
    }

    [Fact]
    public void Data_of_the_wrong_shape_is_a_json_error_not_a_crash()
    {
        var envelope = EventEnvelope.Parse(Encoding.UTF8.GetBytes(Envelope(e => e["data"] = new JsonObject { ["stage"] = 1 })));
        Assert.Throws<JsonException>(() => envelope.DataAs<BuildStarted>());
    }

    private static string Envelope(Action<JsonObject> change)
    {
        var node = JsonNode.Parse(Samples.Envelope(Samples.For(typeof(BuildStarted))).ToUtf8Json())!.AsObject();
        change(node);
        return node.ToJsonString();
    }

    private static JsonNode Nested(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 0; i < depth; i++) node = new JsonArray(node);
        return node;
    }
}
