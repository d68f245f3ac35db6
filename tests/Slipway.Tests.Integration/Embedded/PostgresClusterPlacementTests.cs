using Npgsql;
using Slipway.Embedded;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>
/// A checkout anywhere a user clones, including a home directory only its owner may enter: as root the
/// embedded Postgres runs as the postgres user, so its cluster is kept where that user can reach it.
/// </summary>
public sealed class PostgresClusterPlacementTests
{
    [Fact]
    public async Task A_cluster_requested_under_a_directory_only_its_owner_may_enter_starts_and_answers()
    {
        Assert.True(Posix.IsRoot, "the embedded infrastructure runs as root here, as in CI");
        var home = Directory.CreateTempSubdirectory("slipway-owner-only-").FullName;
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // 0700, like /root
        var requested = Path.Combine(home, "checkout", ".slipway", "postgres");
        var cluster = new PostgresCluster(requested);
        try
        {
            Assert.StartsWith(PostgresCluster.ReachableRoot + "/postgres-", cluster.Directory);
            Assert.Equal(cluster.Directory, new PostgresCluster(requested).Directory); // `infra down` finds what `up` started

            await cluster.StartAsync();
            await using var conn = new NpgsqlConnection(cluster.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT current_database()", conn);
            Assert.Equal(PostgresCluster.Database, await cmd.ExecuteScalarAsync());
        }
        finally
        {
            await cluster.StopAsync();
            if (cluster.Directory != requested && Directory.Exists(cluster.Directory)) Directory.Delete(cluster.Directory, recursive: true);
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void A_cluster_requested_where_everyone_may_traverse_stays_where_it_was_asked()
    {
        var requested = Path.Combine(Path.GetTempPath(), "slipway-anyone-" + Guid.NewGuid().ToString("N")[..8], "postgres");
        Assert.Equal(requested, new PostgresCluster(requested).Directory);
    }
}
