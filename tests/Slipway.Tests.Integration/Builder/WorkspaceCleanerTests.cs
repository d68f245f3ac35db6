using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Builder.Building;
using Slipway.Builder.Git;
using Slipway.Builder.Runs;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// The builder's scheduled clean-up of run workspaces: real directories under a temporary <c>Builder:WorkDir</c>, the
/// runs' state in a real Postgres schema (the builder's <c>run_state</c>).
/// </summary>
public sealed class WorkspaceCleanerTests
{
    [Fact]
    public async Task Workspaces_of_finished_and_long_unknown_runs_go_open_and_recent_ones_and_foreign_entries_stay()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("ws_"));
        var work = Directory.CreateTempSubdirectory("slipway-ws-clean-").FullName;
        var outside = Directory.CreateTempSubdirectory("slipway-ws-outside-").FullName;
        await using var dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        try
        {
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema, [typeof(RunStateStore).Assembly], NullLogger.Instance);
            await using (var conn = await dataSource.OpenConnectionAsync())
                await conn.ExecuteAsync($"""
                    INSERT INTO {schema}.run_state (run_id, started, outcome) VALUES
                        ('finished1', '{"{}"}', 'succeeded'), ('failed1', '{"{}"}', 'failed'), ('open1', '{"{}"}', NULL)
                    """);
            var runs = Path.Combine(work, "runs");
            foreach (var run in new[] { "finished1", "failed1", "open1", "unknownold", "unknownnew" })
            {
                Directory.CreateDirectory(Path.Combine(runs, run, "src", "lib"));
                await File.WriteAllTextAsync(Path.Combine(runs, run, "src", "lib", "a.txt"), run);
                await File.WriteAllTextAsync(Path.Combine(runs, run, ".complete"), "rev");
            }
            // A link inside a finished run's workspace to a directory outside: the link goes, its target stays.
            await File.WriteAllTextAsync(Path.Combine(outside, "keep.txt"), "keep");
            Directory.CreateSymbolicLink(Path.Combine(runs, "finished1", "src", "out"), outside);
            // A link named like a run, and a directory whose name is no run id: not the builder's workspaces.
            Directory.CreateSymbolicLink(Path.Combine(runs, "linkedrun"), outside);
            Directory.CreateDirectory(Path.Combine(runs, "not a run"));
            Directory.SetLastWriteTimeUtc(Path.Combine(runs, "unknownold"), DateTime.UtcNow.AddDays(-2));
            Directory.SetLastWriteTimeUtc(Path.Combine(runs, "not a run"), DateTime.UtcNow.AddDays(-2));

            var options = new BuilderOptions { WorkDir = work };
            var workspaces = new Workspaces(new GitRevisionCache(Path.Combine(work, "git"), NullLogger<GitRevisionCache>.Instance), options);
            var cleaner = new WorkspaceCleaner(workspaces, options, dataSource, schema,
                Options.Create(new LocalFileRetentionOptions { OrphanWorkspaces = TimeSpan.FromDays(1) }), TimeProvider.System, NullLogger<WorkspaceCleaner>.Instance);

            Assert.Equal(3, await cleaner.CleanOnceAsync(CancellationToken.None));
            Assert.Equal(["linkedrun", "not a run", "open1", "unknownnew"],
                Directory.EnumerateFileSystemEntries(runs).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal("open1", await File.ReadAllTextAsync(Path.Combine(runs, "open1", "src", "lib", "a.txt")));
            Assert.Equal("keep", await File.ReadAllTextAsync(Path.Combine(outside, "keep.txt")));

            // Once the open run finishes, its workspace goes at the next clean-up; nothing else does.
            await using (var conn = await dataSource.OpenConnectionAsync())
                await conn.ExecuteAsync($"UPDATE {schema}.run_state SET outcome = 'cancelled' WHERE run_id = 'open1'");
            Assert.Equal(1, await cleaner.CleanOnceAsync(CancellationToken.None));
            Assert.Equal(["linkedrun", "not a run", "unknownnew"],
                Directory.EnumerateFileSystemEntries(runs).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            Directory.Delete(outside, recursive: true);
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
