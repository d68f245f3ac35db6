using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Builder.Building;
using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary>
/// Deletes, on a schedule, run workspaces (<c>Builder:WorkDir/runs/&lt;run id&gt;</c>) that outlived their runs. The builder
/// deletes a run's workspace when its <c>run.finished</c> arrives, but only on the instance that handles that event and
/// only when nothing holds a file: a workspace another instance exported for one of the run's builds, or one whose
/// deletion failed, stayed for ever. A workspace goes when the run finished (<c>run_state</c>), or when no run of that id
/// is known and it is older than <see cref="LocalFileRetentionOptions.OrphanWorkspaces"/> (its run's state was pruned,
/// or its run never started). Open runs keep theirs. Only directories are touched, never links.
/// </summary>
public sealed class WorkspaceCleaner(Workspaces workspaces, BuilderOptions builder, NpgsqlDataSource dataSource, SchemaName schema,
    IOptions<LocalFileRetentionOptions> options, TimeProvider clock, ILogger<WorkspaceCleaner> logger) : ScheduledCleaner(options, logger)
{
    protected override string What => "run workspaces";

    protected override Task CleanPassAsync(CancellationToken ct) => CleanOnceAsync(ct);

    /// <summary>Deletes the workspaces that are due; returns how many went.</summary>
    public async Task<int> CleanOnceAsync(CancellationToken ct)
    {
        var root = Path.Combine(Path.GetFullPath(builder.WorkDir), "runs");
        if (!Directory.Exists(root)) return 0;
        var dirs = new List<DirectoryInfo>();
        foreach (var path in Directory.EnumerateDirectories(root, "*", new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true }))
        {
            var dir = new DirectoryInfo(path);
            if (dir.LinkTarget is null && IsRunId(dir.Name)) dirs.Add(dir);
        }
        if (dirs.Count == 0) return 0;

        var finished = new Dictionary<string, bool>(StringComparer.Ordinal); // run id → finished; absent: unknown
        await using (var cmd = dataSource.CreateCommand($"SELECT run_id, outcome IS NOT NULL FROM {schema.Value}.run_state WHERE run_id = ANY($1)"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = dirs.Select(d => d.Name).ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) finished[reader.GetString(0)] = reader.GetBoolean(1);
        }

        var orphanedBefore = clock.GetUtcNow().UtcDateTime - Settings.OrphanWorkspaces;
        var deleted = 0;
        foreach (var dir in dirs)
        {
            var due = finished.TryGetValue(dir.Name, out var done) ? done : dir.LastWriteTimeUtc < orphanedBefore;
            if (!due) continue;
            workspaces.Remove(dir.Name);
            if (Directory.Exists(dir.FullName)) logger.LogWarning("workspace {Path} could not be deleted yet; trying again next time", dir.FullName);
            else deleted++;
        }
        if (deleted > 0) logger.LogInformation("deleted {Count} workspaces of finished runs", deleted);
        return deleted;
    }

    /// <summary>Run ids are short hex or uuid-like names; anything else under <c>runs/</c> is not the builder's.</summary>
    private static bool IsRunId(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
