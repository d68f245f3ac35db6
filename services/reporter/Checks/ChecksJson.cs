using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slipway.Reporter.Checks;

/// <summary>The Checks API's JSON: absent fields are left out (Gerrit treats null and undefined differently).</summary>
public static class ChecksJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
