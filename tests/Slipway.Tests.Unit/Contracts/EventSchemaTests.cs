using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Slipway.Contracts;
using Slipway.Contracts.Schemas;
using Xunit.Abstractions;

namespace Slipway.Tests.Unit.Contracts;

/// <summary>The committed schemas under docs/events are the public contract: they must match the records and the samples.</summary>
public sealed class EventSchemaTests(SchemaFiles files, ITestOutputHelper output) : IClassFixture<SchemaFiles>
{
    public static TheoryData<string> TypeNames() => new(EventTypes.All);

    [Fact]
    public void Contracts_define_event_types()
    {
        Assert.True(EventTypes.All.Count >= 20, $"only {EventTypes.All.Count} event types registered");
        Assert.Contains("slipway.gerrit.event.v1", EventTypes.All);
        Assert.Contains("slipway.run.started.v1", EventTypes.All);
        Assert.Contains("slipway.run.finished.v1", EventTypes.All);
    }

    [Fact]
    public void Every_event_type_has_a_sample()
    {
        var missing = EventTypes.All.Where(n => !Samples.Types.Contains(EventTypes.TypeOf(n))).ToArray();
        Assert.True(missing.Length == 0, $"no sample in Samples.cs for: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Sample_validates_against_the_committed_schema(string typeName)
    {
        var committed = files.Read(EventSchemas.FileNameOf(typeName));
        Assert.True(committed is not null, $"docs/events/{EventSchemas.FileNameOf(typeName)} is missing. {SchemaFiles.RegenerateHint}");

        var json = Samples.Envelope(Samples.For(EventTypes.TypeOf(typeName)!)).ToUtf8Json();

        AssertValid(committed!, json, typeName);
        AssertValid(SchemaText(EventSchemas.Envelope()), json, "envelope");
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Committed_schema_equals_the_generated_one(string typeName)
    {
        var fileName = EventSchemas.FileNameOf(typeName);
        var generated = EventSchemas.All().Single(f => f.FileName == fileName).Json;
        var committed = files.Read(fileName);
        Assert.True(committed == generated,
            committed is null
                ? $"docs/events/{fileName} is missing. {SchemaFiles.RegenerateHint}"
                : $"docs/events/{fileName} differs from the schema generated from {EventTypes.TypeOf(typeName)!.Name}. {SchemaFiles.RegenerateHint}");
    }

    [Fact]
    public void Committed_envelope_schema_equals_the_generated_one()
    {
        var committed = files.Read(EventSchemas.EnvelopeFileName);
        Assert.True(committed == SchemaText(EventSchemas.Envelope()),
            $"docs/events/{EventSchemas.EnvelopeFileName} is missing or out of date. {SchemaFiles.RegenerateHint}");
    }

    [Fact]
    public void No_stale_schema_files()
    {
        var expected = EventSchemas.All().Select(f => f.FileName).ToHashSet();
        var stale = files.Committed().Where(f => !expected.Contains(f)).ToArray();
        Assert.True(stale.Length == 0,
            $"docs/events has schemas for no registered type: {string.Join(", ", stale)}. A published type is never deleted silently; "
            + $"if it really goes, remove its file. {SchemaFiles.RegenerateHint}");
    }

    [Fact]
    public void Generation_is_deterministic_with_lf_and_trailing_newline()
    {
        var first = EventSchemas.All().ToArray();
        var second = EventSchemas.All().ToArray();
        Assert.Equal(first, second);
        Assert.Equal(first.Select(f => f.FileName).Order(StringComparer.Ordinal), first.Select(f => f.FileName));
        Assert.All(first, f =>
        {
            Assert.DoesNotContain('\r', f.Json);
            Assert.EndsWith("}\n", f.Json);
            Assert.DoesNotContain("\n\n", f.Json);
        });
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Schema_has_id_title_and_envelope_attributes(string typeName)
    {
        var schema = EventSchemas.For(typeName);
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)schema["$schema"]);
        Assert.Equal($"https://slipway.dev/events/{typeName}.schema.json", (string?)schema["$id"]);
        Assert.Equal(typeName, (string?)schema["title"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)schema["description"]), $"{typeName} has no [Description]");
        Assert.Equal(typeName, (string?)schema["properties"]!["type"]!["const"]);
        Assert.Equal("1.0", (string?)schema["properties"]!["specversion"]!["const"]);
        var required = schema["required"]!.AsArray().Select(n => (string)n!).ToArray();
        Assert.Superset(new HashSet<string> { "specversion", "id", "source", "type", "time", "datacontenttype", "data" }, required.ToHashSet());
        Assert.Equal(EventTypes.IsRunScoped(typeName), required.Contains("runid"));
        Assert.Equal("object", (string?)schema["properties"]!["data"]!["type"]);
    }

    [Fact]
    public void Invalid_samples_fail_validation()
    {
        const string typeName = "slipway.build.succeeded.v1";
        var schema = files.Read(EventSchemas.FileNameOf(typeName)) ?? SchemaText(EventSchemas.For(typeName));
        var valid = JsonNode.Parse(Samples.Envelope(Samples.For(typeof(BuildSucceeded))).ToUtf8Json())!.AsObject();

        AssertInvalid(schema, Mutate(valid, e => e.Remove("id")), "missing id");
        AssertInvalid(schema, Mutate(valid, e => e["type"] = "slipway.build.failed.v1"), "wrong type");
        AssertInvalid(schema, Mutate(valid, e => e["specversion"] = "0.3"), "wrong specversion");
        AssertInvalid(schema, Mutate(valid, e => e.Remove("runid")), "missing runid on a run-scoped type");
        AssertInvalid(schema, Mutate(valid, e => e["traceparent"] = "not-a-traceparent"), "malformed traceparent");
        AssertInvalid(schema, Mutate(valid, e => e["time"] = "yesterday"), "time not a date-time");
        AssertInvalid(schema, Mutate(valid, e => e["data"]!.AsObject().Remove("imageId")), "data missing a required property");
        AssertInvalid(schema, Mutate(valid, e => e["data"]!["imageId"] = "latest"), "imageId not a digest");
        AssertInvalid(schema, Mutate(valid, e => e["data"]!["attempt"] = 0), "attempt below 1");
        AssertInvalid(schema, Mutate(valid, e => e["data"]!["durationMs"] = "64210"), "number as string");

        var run = JsonNode.Parse(Samples.Envelope(Samples.For(typeof(RunStarted))).ToUtf8Json())!.AsObject();
        var runSchema = files.Read(EventSchemas.FileNameOf("slipway.run.started.v1")) ?? SchemaText(EventSchemas.For("slipway.run.started.v1"));
        AssertInvalid(runSchema, Mutate(run, e => e["data"]!["trigger"]!["kind"] = "push"), "unknown enum value");

        // Extension attributes and new optional data properties stay valid (forward compatibility).
        AssertValid(schema, Bytes(Mutate(valid, e => { e["myextension"] = "x"; e["data"]!["futureField"] = 1; })), "extended");
    }

    [Fact]
    public void Type_names_follow_the_naming_rule()
    {
        var rule = new Regex(@"^slipway\.[a-z-]+(\.[a-z-]+)*\.v[0-9]+$");
        Assert.All(EventTypes.All, name => Assert.Matches(rule, name));
        Assert.Equal(ContractPatterns.EventTypeName, rule.ToString());
    }

    [Fact]
    public void Event_records_are_sealed_documented_and_well_formed()
    {
        foreach (var name in EventTypes.All)
        {
            var type = EventTypes.TypeOf(name)!;
            Assert.True(type.IsSealed, $"{type.Name} must be sealed");
            Assert.Equal(name, EventTypes.NameOf(type));
            Assert.Equal(type, EventTypes.TypeOf(EventTypes.NameOf(type)));
            Assert.Equal(name.StartsWith("slipway.gerrit.") ? Topics.GerritEvents : Topics.PipelineEvents, EventTypes.TopicOf(name));
        }
    }

    [Fact]
    public void Every_contract_property_is_required_nullable_or_a_value_type()
    {
        // Otherwise a non-nullable reference could be silently absent from JSON while the schema calls it required,
        // or vice versa. Walk every type reachable from the event records.
        var seen = new HashSet<Type>();
        var problems = new List<string>();
        var nullability = new NullabilityInfoContext();
        foreach (var name in EventTypes.All) Walk(EventTypes.TypeOf(name)!);
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        void Walk(Type type)
        {
            if (!seen.Add(type) || type.Assembly != typeof(EventEnvelope).Assembly || !type.IsClass) return;
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.Name == "EqualityContract") continue;
                // C# 'required', or [JsonRequired] (the step-event header, written by the run plumbing after the record is made).
                var isRequired = p.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null
                                 || p.GetCustomAttribute<System.Text.Json.Serialization.JsonRequiredAttribute>() is not null;
                var nullable = nullability.Create(p).ReadState == NullabilityState.Nullable;
                if (!isRequired && !nullable && !p.PropertyType.IsValueType)
                    problems.Add($"{type.Name}.{p.Name}: make it 'required' or nullable");
                if (isRequired && nullable)
                    problems.Add($"{type.Name}.{p.Name}: required and nullable");
                var element = p.PropertyType.IsGenericType ? p.PropertyType.GetGenericArguments().Last() : p.PropertyType;
                Walk(Nullable.GetUnderlyingType(element) ?? element);
            }
        }
    }

    [Fact]
    public void Readme_lists_every_event_type()
    {
        var readme = File.ReadAllText(Path.Combine(files.Directory, "README.md"));
        var missing = EventTypes.All.Where(n => !readme.Contains($"`{n}`")).ToArray();
        Assert.True(missing.Length == 0, $"docs/events/README.md does not list: {string.Join(", ", missing)}");
    }

    private static JsonObject Mutate(JsonObject original, Action<JsonObject> change)
    {
        var copy = original.DeepClone().AsObject();
        change(copy);
        return copy;
    }

    private static byte[] Bytes(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node);

    private static string SchemaText(JsonNode schema) => EventSchemas.ToText(schema);

    private static EvaluationResults Evaluate(string schemaText, byte[] instance)
    {
        // A private registry per evaluation: committed and generated schemas share $ids.
        var schema = JsonSchema.FromText(schemaText, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var document = JsonDocument.Parse(instance);
        return schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    private void AssertValid(string schemaText, byte[] instance, string what)
    {
        var result = Evaluate(schemaText, instance);
        if (!result.IsValid)
        {
            var errors = Errors(result);
            output.WriteLine(System.Text.Encoding.UTF8.GetString(instance));
            Assert.Fail($"{what}: sample does not validate:\n{errors}");
        }
    }

    private static void AssertInvalid(string schemaText, JsonObject instance, string what)
    {
        var result = Evaluate(schemaText, Bytes(instance));
        Assert.False(result.IsValid, $"expected invalid ({what}), but it validated");
    }

    private static string Errors(EvaluationResults result) => string.Join("\n",
        (result.Details ?? []).Prepend(result)
        .Where(d => d.Errors is { Count: > 0 })
        .SelectMany(d => d.Errors!.Select(e => $"  {(d.InstanceLocation.ToString() is "" ? "/" : d.InstanceLocation.ToString())} ({d.EvaluationPath}) {e.Key}: {e.Value}")));
}
