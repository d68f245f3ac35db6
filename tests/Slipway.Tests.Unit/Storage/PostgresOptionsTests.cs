using Npgsql;
using Slipway.Storage;

namespace Slipway.Tests.Unit.Storage;

/// <summary>Npgsql's automatic preparation is on (32 statements a connection) unless the operator's connection string or Postgres:MaxAutoPrepare says otherwise.</summary>
public sealed class PostgresOptionsTests
{
    private const string Plain = "Host=127.0.0.1;Port=5432;Username=slipway;Database=slipway";

    [Theory]
    [InlineData(Plain, 32, 32)]
    [InlineData(Plain, 0, 0)]
    [InlineData(Plain + ";Max Auto Prepare=5", 32, 5)]
    [InlineData(Plain + "; max auto prepare = 0", 32, 0)]
    [InlineData("Max Auto Prepare=7;" + Plain, 0, 7)]
    public void The_connection_string_gets_auto_prepare_unless_it_sets_its_own(string connectionString, int option, int expected)
    {
        var options = new PostgresOptions { ConnectionString = connectionString, MaxAutoPrepare = option };

        var effective = new NpgsqlConnectionStringBuilder(options.EffectiveConnectionString());

        Assert.Equal(expected, effective.MaxAutoPrepare);
        Assert.Equal(("127.0.0.1", 5432, "slipway", "slipway"), (effective.Host, effective.Port, effective.Username, effective.Database));
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void An_out_of_range_setting_is_refused_naming_the_key()
    {
        var options = new PostgresOptions { ConnectionString = Plain, MaxAutoPrepare = -1 };

        Assert.Equal(["Postgres:MaxAutoPrepare must be between 0 and 1000"], options.Validate());
    }
}
