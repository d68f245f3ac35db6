using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Artifacts;

namespace Slipway.Builder.Building;

/// <summary>
/// Deletes, on a schedule, the builder's local files that outlived their builds: build logs older than
/// <see cref="LocalFileRetentionOptions.BuildLogs"/>, and build-context archives a killed builder left in the temporary
/// directory, older than <see cref="LocalFileRetentionOptions.StaleContextArchives"/> (a running build's archive is younger).
/// Only regular files matching the builder's own names are touched; links and directories are never followed.
/// A run's copied files and artifacts (PipelineLib's <c>copy</c>, <see cref="RunArtifactStore"/>) go with its build logs.
/// </summary>
public sealed class LocalFileCleaner(IOptions<BuilderOptions> builder, IOptions<LocalFileRetentionOptions> options, TimeProvider clock,
    ILogger<LocalFileCleaner> logger, RunArtifactStore? artifacts = null) : ScheduledCleaner(options, logger)
{
    /// <summary>Where the build-context archives go (the builder writes them to the process's temporary directory).</summary>
    public string TempDir { get; init; } = Path.GetTempPath();

    protected override string What => "local build files";

    protected override Task CleanPassAsync(CancellationToken ct)
    {
        CleanOnce();
        return Task.CompletedTask;
    }

    /// <summary>Deletes what is due; returns how many files went.</summary>
    public int CleanOnce()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var o = Settings;
        var deleted = Delete(Path.GetFullPath(builder.Value.LogDir), "*.log", now - o.BuildLogs)
            + Delete(TempDir, "slipway-context-*.tar", now - o.StaleContextArchives)
            + DeleteRunArtifacts(now - o.BuildLogs);
        if (deleted > 0) logger.LogInformation("deleted {Count} local build files past their retention", deleted);
        return deleted;
    }

    private int DeleteRunArtifacts(DateTime cutoff)
    {
        if (artifacts is null) return 0;
        var deleted = 0;
        foreach (var (runId, lastWrite) in artifacts.Runs())
        {
            if (lastWrite >= cutoff) continue;
            artifacts.Remove(runId);
            deleted++;
        }
        return deleted;
    }

    private int Delete(string directory, string pattern, DateTime cutoff)
    {
        if (!Directory.Exists(directory)) return 0;
        var deleted = 0;
        foreach (var path in Directory.EnumerateFiles(directory, pattern, new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true }))
        {
            try
            {
                var file = new FileInfo(path);
                if (file.LinkTarget is not null || file.LastWriteTimeUtc >= cutoff) continue;
                file.Delete();
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("cannot delete {Path}: {Error}", path, e.Message); // someone else's file, or gone meanwhile
            }
        }
        return deleted;
    }
}
