using System.Text.RegularExpressions;

namespace Slipway.Storage;

/// <summary>A service's own Postgres schema; validated because it is spliced into SQL text.</summary>
public sealed partial record SchemaName
{
    public string Value { get; }

    public SchemaName(string value)
    {
        if (!Pattern().IsMatch(value))
            throw new ArgumentException($"schema name '{value}' must match {Pattern()}");
        Value = value;
    }

    public override string ToString() => Value;

    public static bool IsValid(string value) => Pattern().IsMatch(value);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex Pattern();
}
