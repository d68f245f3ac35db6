using Slipway.Builder.Building;
using Slipway.Builder.Git;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;

namespace Slipway.Builder.Runs;

/// <summary>
/// One directory per run holding exactly the triggering revision, exported from the project's git cache.
/// Any builder instance can recreate it, so a build retried elsewhere after a crash finds its sources.
/// </summary>
public sealed class Workspaces(GitRevisionCache git, BuilderOptions options)
{
    private readonly BuilderOptions _o = options;

    // Parallel stages build from the same workspace: one export per run at a time, the others wait and reuse it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string PathOf(string runId) => Path.Combine(_o.WorkDir, "runs", runId);

    public async Task<string> EnsureAsync(string runId, RunTrigger trigger, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(runId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            return await ExportAsync(runId, trigger, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<string> ExportAsync(string runId, RunTrigger trigger, CancellationToken ct)
    {
        var dir = PathOf(runId);
        var src = Path.Combine(dir, "src");
        var done = Path.Combine(dir, ".complete");
        if (File.Exists(done)) return src;
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // a partial export from a crashed attempt
        Directory.CreateDirectory(dir);
        await git.CheckoutAsync($"{_o.GitUrl!.TrimEnd('/')}/{trigger.Project}", trigger.Project, trigger.Ref, trigger.Revision, src, ct);
        await File.WriteAllTextAsync(done, trigger.Revision, ct);
        return src;
    }

    public void Remove(string runId)
    {
        _locks.TryRemove(runId, out _);
        try { if (Directory.Exists(PathOf(runId))) Directory.Delete(PathOf(runId), recursive: true); }
        catch (IOException) { } // best effort: a build may still hold a file; the next cleanup gets it
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Reads a file of the checked-out revision, refusing paths that leave it (symlinks included) or are too big.</summary>
    public static string? ReadFile(string src, string relative, long maxBytes = 1024 * 1024)
    {
        if (Path.IsPathRooted(relative)) return null;
        var root = Path.GetFullPath(src);
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        var info = new FileInfo(full);
        if (!info.Exists) return null;
        if (info.LinkTarget is not null) throw new PipelineConfigException($"{relative} is a symbolic link; pipeline files must be regular files");
        if (info.Length > maxBytes) throw new PipelineConfigException($"{relative} is {info.Length} bytes; the limit is {maxBytes}");
        return File.ReadAllText(full);
    }
}
