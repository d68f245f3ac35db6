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

    /// <summary>
    /// The data as the record its registered type names (e.g. a <see cref="BuildSucceeded"/>), for consumers that
    /// dispatch with one typed switch; null for a type this version does not know.
    /// </summary>
    public object? Event() => EventTypes.TypeOf(Type) is { } type
        ? Data.Deserialize(type, ContractJson.Options) ?? throw new JsonException($"event {Id} of type {Type} has null data")
        : null;

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ContractJson.Options);

    /// <summary>Largest envelope <see cref="Parse"/> accepts, in bytes (Kafka's default message size limit).</summary>
    public const int MaxSizeBytes = 1024 * 1024;

    /// <summary>Deepest JSON nesting <see cref="Parse"/> accepts.</summary>
    public const int MaxDepth = 64;

    private const int MaxIdLength = 200, MaxTypeLength = 200, MaxSourceLength = 1024, MaxSubjectLength = 1024;

    /// <summary>
    /// Parses and checks the envelope: size and depth limits, valid JSON object, <c>specversion</c> 1.0,
    /// non-empty <c>id</c>, <c>source</c>, <c>type</c>, a <c>time</c>, and <c>data</c>. Throws
    /// <see cref="InvalidEventException"/> saying what is wrong; never anything else for bad input.
    /// Does not check <c>data</c> against the type's schema (see <see cref="DataAs{T}"/>).
    /// </summary>
    public static EventEnvelope Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.IsEmpty) throw new InvalidEventException("empty message: not a CloudEvents JSON envelope");
        if (utf8Json.Length > MaxSizeBytes)
            throw new InvalidEventException($"event is {utf8Json.Length} bytes, more than the {MaxSizeBytes}-byte limit");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw new InvalidEventException($"not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidEventException($"not a CloudEvents JSON envelope: the JSON is {Describe(root.ValueKind)}, not an object");

            var specVersion = RequiredString(root, "specversion", 16);
            if (specVersion != CurrentSpecVersion)
                throw new InvalidEventException($"unsupported specversion '{specVersion}' (expected '{CurrentSpecVersion}')");
            var id = RequiredString(root, "id", MaxIdLength);
            RequiredString(root, "source", MaxSourceLength);
            var type = RequiredString(root, "type", MaxTypeLength);
            OptionalString(root, "subject", MaxSubjectLength);
            OptionalString(root, "runid", MaxIdLength);
            OptionalString(root, "traceparent", 128);
            if (!root.TryGetProperty("time", out _)) throw new InvalidEventException($"event {id} ({type}): missing 'time'");
            if (!root.TryGetProperty("data", out var data) || data.ValueKind is JsonValueKind.Null)
                throw new InvalidEventException($"event {id} ({type}): missing 'data'");
            if (root.TryGetProperty("datacontenttype", out var contentType)
                && (contentType.ValueKind != JsonValueKind.String || !IsJsonContentType(contentType.GetString()!)))
                throw new InvalidEventException($"event {id} ({type}): datacontenttype must be '{JsonContentType}'");

            try
            {
                return root.Deserialize<EventEnvelope>(ContractJson.Options)
                       ?? throw new InvalidEventException("not a CloudEvents JSON envelope: null");
            }
            catch (JsonException e)
            {
                throw new InvalidEventException($"event {id} ({type}): bad envelope attribute: {e.Message}");
            }
        }
    }

    private static string RequiredString(JsonElement root, string name, int maxLength)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new InvalidEventException($"missing '{name}'");
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidEventException($"'{name}' must be a string, not {Describe(value.ValueKind)}");
        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidEventException($"'{name}' is empty");
        if (text.Length > maxLength) throw new InvalidEventException($"'{name}' longer than {maxLength} characters");
        return text;
    }

    private static void OptionalString(JsonElement root, string name, int maxLength)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidEventException($"'{name}' must be a string, not {Describe(value.ValueKind)}");
        if (value.GetString()!.Length > maxLength) throw new InvalidEventException($"'{name}' longer than {maxLength} characters");
    }

    private static bool IsJsonContentType(string value) =>
        value.Split(';')[0].Trim().Equals(JsonContentType, StringComparison.OrdinalIgnoreCase);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}

/// <summary>A message that is not a valid Slipway event envelope; the message says why.</summary>
public sealed class InvalidEventException(string message) : Exception(message);
