using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slipway.Contracts;

/// <summary>
/// The one JSON convention of the public contract: camelCase properties, enums as kebab-case
/// strings (<c>RefUpdate</c> → <c>"ref-update"</c>), nulls omitted, numbers as JSON numbers only,
/// at most 64 levels of nesting.
/// </summary>
public static class ContractJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // Enum values travel as their names only; a number is not a valid value.
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
            // A non-nullable property given as null is bad input, not a value.
            RespectNullableAnnotations = true,
            // {"id":"a","id":"b"} is ambiguous: reject it rather than pick one.
            AllowDuplicateProperties = false,
            // Web defaults also accept numbers written as strings; the contract says numbers are numbers
            // (and the generated schemas would otherwise allow strings for every integer).
            NumberHandling = JsonNumberHandling.Strict,
            MaxDepth = 64,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
