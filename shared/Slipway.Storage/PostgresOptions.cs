using Npgsql;

namespace Slipway.Storage;

/// <summary>Configuration section <c>Postgres</c>.</summary>
public sealed partial class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Username=slipway;Database=slipway</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Optional: the schema this service owns, instead of its default (e.g. <c>builder</c>).</summary>
    public string? Schema { get; set; }

    /// <summary>
    /// Npgsql's automatic preparation (<c>Max Auto Prepare</c>): the statements a connection runs most are prepared on
    /// the server, so Postgres parses and plans them once per connection instead of per execution (the messaging
    /// host's inbox, outbox and relay statements: docs/benchmarks.md, "Messaging host as the services run it"). Applied
    /// unless the connection string sets <c>Max Auto Prepare</c> itself; 0 turns it off.
    /// </summary>
    public int MaxAutoPrepare { get; set; } = 32;

    /// <summary>The connection string the data source uses: <see cref="ConnectionString"/> with <see cref="MaxAutoPrepare"/> unless it sets its own.</summary>
    public string EffectiveConnectionString()
    {
        var parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (!NamesAutoPrepare().IsMatch(ConnectionString ?? "")) parsed.MaxAutoPrepare = MaxAutoPrepare;
        return parsed.ConnectionString;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(^|;)\s*max\s*auto\s*prepare\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex NamesAutoPrepare();

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
        if (MaxAutoPrepare is < 0 or > 1000) yield return "Postgres:MaxAutoPrepare must be between 0 and 1000";
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
