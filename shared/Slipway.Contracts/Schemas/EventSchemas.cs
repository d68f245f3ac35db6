using System.Collections.Frozen;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;

namespace Slipway.Contracts.Schemas;

/// <summary>
/// Generates the JSON Schemas (draft 2020-12) of Slipway's events: one per event type describing the
/// whole CloudEvents envelope with that type's <c>data</c>, and one for the bare envelope. The schemas
/// are committed under <c>docs/events/</c>; a unit test fails when the committed files differ from
/// what this generates.
/// </summary>
/// <remarks>
/// <para>Data schemas come from <see cref="JsonSchemaExporter"/> over <see cref="ContractJson.Options"/>,
/// so they describe exactly what the serializer writes and reads. On top of that:</para>
/// <list type="bullet">
/// <item>a property is <c>required</c> when it is a C# <c>required</c> member or a non-nullable value
/// type (always written, as nulls are the only values omitted);</item>
/// <item><see cref="DescriptionAttribute"/> on a property, on an interface property it implements, or on
/// its type gives <c>description</c>;</item>
/// <item>a <see cref="JsonElement"/> property (Gerrit's raw event) is a JSON object;</item>
/// <item><see cref="RegularExpressionAttribute"/> gives <c>pattern</c>; <see cref="MaxLengthAttribute"/> and
/// <see cref="MinLengthAttribute"/> give <c>maxLength</c>/<c>minLength</c> (strings) or
/// <c>maxItems</c>/<c>minItems</c> (arrays); <see cref="RangeAttribute"/> gives <c>minimum</c>/<c>maximum</c>.</item>
/// </list>
/// <para>Objects do not forbid additional properties: a compatible change adds optional properties, and
/// data written by a newer producer must still validate against the schema an older consumer holds.</para>
/// </remarks>
public static class EventSchemas
{
    public const string MetaSchema = "https://json-schema.org/draft/2020-12/schema";
    public const string BaseUri = "https://slipway.dev/events/";
    public const string EnvelopeFileName = "envelope.schema.json";
    public const string FileSuffix = ".schema.json";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        // Readable descriptions and patterns ('<', '+', '\'' unescaped); the files are not embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSchemaExporterOptions ExporterOptions = new()
    {
        TreatNullObliviousAsNonNullable = true,
        TransformSchemaNode = Transform,
    };

    /// <summary>The schema file name of an event type: <c>&lt;type&gt;.schema.json</c>.</summary>
    public static string FileNameOf(string typeName) => typeName + FileSuffix;

    /// <summary>The schema's <c>$id</c> for a file name.</summary>
    public static string IdOf(string fileName) => BaseUri + fileName;

    /// <summary>The schema of the whole envelope of a registered event type, its data included.</summary>
    public static JsonObject For(string typeName)
    {
        var type = EventTypes.TypeOf(typeName) ?? throw new ArgumentException($"unknown event type '{typeName}'", nameof(typeName));
        var data = ContractJson.Options.GetJsonSchemaAsNode(type, ExporterOptions);
        RebaseReferences(data, "#/properties/data");
        var description = type.GetCustomAttribute<DescriptionAttribute>()?.Description;

        var properties = new JsonObject
        {
            ["specversion"] = Described("CloudEvents specification version.", new JsonObject { ["const"] = EventEnvelope.CurrentSpecVersion }),
            ["id"] = Described("Event id, unique per source; a re-delivered event keeps its id (consumers drop duplicates by it).",
                new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 200 }),
            ["source"] = Described("The service that produced the event, e.g. /slipway/builder.",
                new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 1024, ["format"] = "uri-reference" }),
            ["type"] = Described("Event type, version included.", new JsonObject { ["const"] = typeName }),
            ["subject"] = Described("What the event is about within the source, e.g. project~change or a step name.",
                new JsonObject { ["type"] = "string", ["maxLength"] = 1024 }),
            ["time"] = Described("When the event happened (RFC 3339).", new JsonObject { ["type"] = "string", ["format"] = "date-time" }),
            ["datacontenttype"] = Described("Always JSON.", new JsonObject { ["const"] = EventEnvelope.JsonContentType }),
            ["runid"] = Described("The pipeline run the event belongs to (the Kafka key on pipeline.events).",
                new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 200 }),
            ["traceparent"] = Described("W3C trace context of the operation that produced the event.",
                new JsonObject { ["type"] = "string", ["pattern"] = ContractPatterns.TraceParent }),
            ["data"] = data,
        };

        var required = new JsonArray("specversion", "id", "source", "type", "time", "datacontenttype");
        if (EventTypes.IsRunScoped(typeName)) required.Add("runid");
        required.Add("data");

        var schema = new JsonObject
        {
            ["$schema"] = MetaSchema,
            ["$id"] = IdOf(FileNameOf(typeName)),
            ["title"] = typeName,
        };
        if (description is not null) schema["description"] = description;
        schema["type"] = "object";
        schema["properties"] = properties;
        schema["required"] = required;
        return schema;
    }

    /// <summary>
    /// The exporter writes a type met again as a <c>$ref</c> relative to the data schema's root (e.g. a second image's
    /// tags); the data schema sits under <c>properties.data</c> of the envelope's, so its references are moved there.
    /// </summary>
    private static void RebaseReferences(JsonNode? node, string root)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue r && r.TryGetValue<string>(out var target) && target.StartsWith("#/", StringComparison.Ordinal))
                    o["$ref"] = root + target[1..];
                foreach (var (_, child) in o.ToList()) RebaseReferences(child, root);
                break;
            case JsonArray a:
                foreach (var child in a) RebaseReferences(child, root);
                break;
        }
    }

    /// <summary>The schema of any Slipway event envelope, whatever its type; <c>data</c> is unconstrained.</summary>
    public static JsonObject Envelope() => new()
    {
        ["$schema"] = MetaSchema,
        ["$id"] = IdOf(EnvelopeFileName),
        ["title"] = "Slipway event envelope",
        ["description"] = "A CloudEvents 1.0 event in structured JSON mode with Slipway's runid and traceparent extensions. "
                          + "Each event type's own schema (<type>.schema.json) also constrains 'data'.",
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["specversion"] = new JsonObject { ["const"] = EventEnvelope.CurrentSpecVersion },
            ["id"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 200 },
            ["source"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 1024, ["format"] = "uri-reference" },
            ["type"] = new JsonObject { ["type"] = "string", ["pattern"] = ContractPatterns.EventTypeName },
            ["subject"] = new JsonObject { ["type"] = "string", ["maxLength"] = 1024 },
            ["time"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
            ["datacontenttype"] = new JsonObject { ["const"] = EventEnvelope.JsonContentType },
            ["runid"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 200 },
            ["traceparent"] = new JsonObject { ["type"] = "string", ["pattern"] = ContractPatterns.TraceParent },
            ["data"] = new JsonObject { ["type"] = "object" },
        },
        ["required"] = new JsonArray("specversion", "id", "source", "type", "time", "datacontenttype", "data"),
    };

    /// <summary>Every schema file: the envelope's and one per event type, ordered by file name.</summary>
    public static IEnumerable<(string FileName, string Json)> All() =>
        EventTypes.All.Select(name => (FileName: FileNameOf(name), Json: ToText(For(name))))
            .Append((FileName: EnvelopeFileName, Json: ToText(Envelope())))
            .OrderBy(x => x.FileName, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The committed text of a schema: two-space indented, LF line endings, trailing newline.</summary>
    public static string ToText(JsonNode schema) => schema.ToJsonString(WriteOptions) + "\n";

    private static JsonObject Described(string description, JsonObject schema)
    {
        var result = new JsonObject { ["description"] = description };
        foreach (var (key, value) in schema.ToArray())
        {
            schema.Remove(key);
            result[key] = value;
        }
        return result;
    }

    private static JsonNode Transform(JsonSchemaExporterContext context, JsonNode schema)
    {
        // 'true' (any value, e.g. JsonElement) becomes an object so it can carry a description.
        if (schema is not JsonObject obj)
        {
            if (schema.GetValueKind() != JsonValueKind.True) return schema;
            obj = new JsonObject();
        }

        // The contract's only JsonElement is Gerrit's raw event, a JSON object.
        if (context.TypeInfo.Type == typeof(JsonElement)) obj["type"] = "object";

        if (context.TypeInfo.Kind == JsonTypeInfoKind.Object && obj["properties"] is JsonObject)
        {
            var required = context.TypeInfo.Properties
                .Where(p => p.IsRequired || IsNonNullableValueType(p.PropertyType))
                .Select(p => (JsonNode?)p.Name)
                .ToArray();
            obj.Remove("required");
            if (required.Length > 0) obj["required"] = new JsonArray(required);
        }

        var member = context.PropertyInfo?.AttributeProvider as MemberInfo;
        if (member is not null) ApplyValidationAttributes(member, obj);

        var description = (member is null ? null : DescriptionOf(member))
                          ?? (context.PropertyInfo is { } property ? CommonDescriptions.GetValueOrDefault(property.Name) : null)
                          ?? context.TypeInfo.Type.GetCustomAttribute<DescriptionAttribute>()?.Description
                          ?? NullableUnderlying(context.TypeInfo.Type)?.GetCustomAttribute<DescriptionAttribute>()?.Description;
        if (description is not null && obj["description"] is null)
        {
            // Put description first: easier to read.
            var copy = new JsonObject { ["description"] = description };
            foreach (var (key, value) in obj.ToArray())
            {
                obj.Remove(key);
                copy[key] = value;
            }
            obj = copy;
        }
        return obj;
    }

    // Properties that mean the same wherever they appear; a [Description] on the property wins.
    private static readonly FrozenDictionary<string, string> CommonDescriptions = new Dictionary<string, string>
    {
        ["project"] = "Gerrit project (repository) name, e.g. mediawiki/services/citoid.",
        ["revision"] = "Git commit SHA.",
        ["variant"] = "Blubber variant, e.g. test or production.",
        ["imageId"] = "Local image id, sha256:<64 hex>.",
        ["imageRef"] = "Reference the image was reached by (local name:tag or staging registry reference).",
        ["imageFrom"] = "Name of the build step whose image this step uses; default the stage's last build step.",
        ["image"] = "The image: repository uri, tags and digest.",
        ["uri"] = "Image repository without tag or digest, e.g. registry.example.org/wikimedia/citoid.",
        ["tags"] = "Image tags.",
        ["environment"] = "Deployment environment, e.g. staging or production.",
        ["service"] = "The deployed service (release) name.",
        ["rolloutStage"] = "The rollout stage this event is about: canary, partial or full.",
        ["percentage"] = "Share of instances running the new image, 1-100.",
        ["exitCode"] = "Exit code of the entry point.",
        ["checksPassed"] = "Number of smoke checks that passed.",
        ["checksFailed"] = "Number of smoke checks that failed.",
        ["checks"] = "The smoke checks, at most 100, failed ones first.",
        ["timeoutMs"] = "Time limit in milliseconds.",
        ["configRevision"] = "Commit in the configuration registry (git) recording the change.",
        ["sizeBytes"] = "Size in bytes.",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static void ApplyValidationAttributes(MemberInfo member, JsonObject schema)
    {
        var isArray = IsType(schema, "array");
        foreach (var attribute in member.GetCustomAttributes(inherit: true))
        {
            switch (attribute)
            {
                case RegularExpressionAttribute regex:
                    schema["pattern"] = regex.Pattern;
                    break;
                case MaxLengthAttribute max:
                    schema[isArray ? "maxItems" : "maxLength"] = max.Length;
                    break;
                case MinLengthAttribute min:
                    schema[isArray ? "minItems" : "minLength"] = min.Length;
                    break;
                case RangeAttribute range:
                    if (Bound(range.Minimum) is { } minimum) schema["minimum"] = minimum;
                    if (Bound(range.Maximum) is { } maximum) schema["maximum"] = maximum;
                    break;
            }
        }
    }

    // int.MaxValue / long.MaxValue mean "no upper bound": leave them out rather than print huge numbers.
    private static long? Bound(object value) => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) switch
    {
        >= int.MaxValue => null,
        var d => (long)d,
    };

    private static bool IsType(JsonObject schema, string type) => schema["type"] switch
    {
        JsonValue v => v.GetValue<string>() == type,
        JsonArray a => a.Any(t => t?.GetValue<string>() == type),
        _ => false,
    };

    private static string? DescriptionOf(MemberInfo member)
    {
        if (member.GetCustomAttribute<DescriptionAttribute>() is { } own) return own.Description;
        // Fall back to the interface member it implements (IStepEvent.Stage, ...).
        return member.DeclaringType?.GetInterfaces()
            .Select(i => i.GetProperty(member.Name)?.GetCustomAttribute<DescriptionAttribute>()?.Description)
            .FirstOrDefault(d => d is not null);
    }

    private static bool IsNonNullableValueType(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null;

    private static Type? NullableUnderlying(Type type) => Nullable.GetUnderlyingType(type);
}
