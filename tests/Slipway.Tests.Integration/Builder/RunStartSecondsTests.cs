using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slipway.Builder.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Two runs of one project started in the same second would publish one timestamp tag at two digests (found by the
/// concurrent fault campaign: two merges published <c>…-005332-production</c>). Each run of a project gets a second of
/// its own, also when two builders claim at once (real Postgres).
/// </summary>
public sealed class RunStartSecondsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 0, 53, 32, 250, TimeSpan.Zero);

    [Fact]
    public async Task Runs_of_one_project_started_in_one_second_get_seconds_of_their_own_and_other_projects_keep_theirs()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("bld_"));
        await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema, [typeof(RunStartSeconds).Assembly], NullLogger.Instance);
        await using var data = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        var seconds = new RunStartSeconds(data, schema);

        Assert.Equal(T0, await seconds.ClaimAsync("demo/a", T0, CancellationToken.None)); // a free second keeps the exact time
        Assert.Equal(T0.AddMilliseconds(-250).AddSeconds(1), await seconds.ClaimAsync("demo/a", T0.AddMilliseconds(500), CancellationToken.None));
        Assert.Equal(T0, await seconds.ClaimAsync("demo/b", T0, CancellationToken.None));

        // Two builders at once: ten claims of one second, ten distinct seconds.
        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => new RunStartSeconds(data, schema).ClaimAsync("demo/c", T0, CancellationToken.None)));
        Assert.Equal(10, claims.Select(c => c.ToUnixTimeSeconds()).Distinct().Count());
        Assert.Equal(T0.ToUnixTimeSeconds() + 9, claims.Max().ToUnixTimeSeconds());
    }
}
