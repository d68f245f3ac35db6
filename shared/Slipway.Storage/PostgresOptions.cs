using Npgsql;

namespace Slipway.Storage;

/// <summary>Configuration section <c>Postgres</c>.</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Username=slipway;Database=slipway</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Optional: the schema this service owns, instead of its default (e.g. <c>builder</c>).</summary>
    public string? Schema { get; set; }

    /// <summary>One line per problem, naming the key (the host checks it at start-up).</summary>
    public IEnumerable<string> Validate()
    {
        if (Schema is { Length: > 0 } && !SchemaName.IsValid(Schema))
            yield return $"Postgres:Schema '{Schema}' is invalid (lower-case letters, digits and '_', at most 63)";
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return "Postgres:ConnectionString is required (e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=slipway)";
            yield break;
        }
        string? error = null;
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (string.IsNullOrWhiteSpace(parsed.Host)) error = "Postgres:ConnectionString has no Host";
        }
        catch (ArgumentException e) { error = $"Postgres:ConnectionString is invalid: {e.Message}"; }
        if (error is not null) yield return error;
    }
}
