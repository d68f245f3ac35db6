using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slipway.Contracts;

/// <summary>
/// A CloudEvents 1.0 event in structured JSON mode, plus Slipway's two extension
/// attributes: <c>runid</c> (the pipeline run it belongs to) and <c>traceparent</c>
/// (W3C trace context, as the CloudEvents distributed-tracing extension names it).
/// This is the value of every Kafka message Slipway produces.
/// </summary>
public sealed record EventEnvelope
{
    public const string CurrentSpecVersion = "1.0";
    public const string JsonContentType = "application/json";

    [JsonPropertyName("specversion")] public string SpecVersion { get; init; } = CurrentSpecVersion;
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("source")] public required string Source { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("subject")] public string? Subject { get; init; }
    [JsonPropertyName("time")] public DateTimeOffset Time { get; init; }
    [JsonPropertyName("datacontenttype")] public string DataContentType { get; init; } = JsonContentType;
    [JsonPropertyName("runid")] public string? RunId { get; init; }
    [JsonPropertyName("traceparent")] public string? TraceParent { get; init; }
    [JsonPropertyName("data")] public JsonElement Data { get; init; }

    /// <summary>Wraps an integration event record; its type name comes from its <see cref="EventTypeAttribute"/>.</summary>
    public static EventEnvelope Create<T>(T data, string source, string? subject = null, string? runId = null,
        string? id = null, DateTimeOffset? time = null, string? traceParent = null) where T : notnull
        => new()
        {
            Id = id ?? Guid.CreateVersion7().ToString(),
            Source = source,
            Type = EventTypes.NameOf(data.GetType()),
            Subject = subject,
            Time = time ?? DateTimeOffset.UtcNow,
            RunId = runId,
            TraceParent = traceParent,
            Data = JsonSerializer.SerializeToElement(data, data.GetType(), ContractJson.Options),
        };

    /// <summary>Reads the data as the record its type names.</summary>
    public T DataAs<T>() => Data.Deserialize<T>(ContractJson.Options)
        ?? throw new JsonException($"event {Id} of type {Type} has null data");

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ContractJson.Options);

    /// <summary>Parses and checks the required CloudEvents attributes; throws <see cref="InvalidEventException"/> with the reason.</summary>
    public static EventEnvelope Parse(ReadOnlySpan<byte> utf8Json)
    {
        EventEnvelope? envelope;
        try { envelope = JsonSerializer.Deserialize<EventEnvelope>(utf8Json, ContractJson.Options); }
        catch (JsonException e) { throw new InvalidEventException($"not a CloudEvents JSON envelope: {e.Message}"); }
        if (envelope is null) throw new InvalidEventException("not a CloudEvents JSON envelope: null");
        if (envelope.SpecVersion != CurrentSpecVersion) throw new InvalidEventException($"unsupported specversion '{envelope.SpecVersion}'");
        if (string.IsNullOrWhiteSpace(envelope.Id)) throw new InvalidEventException("missing 'id'");
        if (string.IsNullOrWhiteSpace(envelope.Source)) throw new InvalidEventException("missing 'source'");
        if (string.IsNullOrWhiteSpace(envelope.Type)) throw new InvalidEventException("missing 'type'");
        if (envelope.Id.Length > 200) throw new InvalidEventException("'id' longer than 200 characters");
        return envelope;
    }
}

public sealed class InvalidEventException(string message) : Exception(message);
