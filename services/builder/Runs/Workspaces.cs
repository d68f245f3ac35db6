using Microsoft.Extensions.Options;
using Slipway.BuildConfig;
using Slipway.Builder.Building;
using Slipway.Builder.Git;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;

namespace Slipway.Builder.Runs;

/// <summary>
/// One directory per run holding exactly the triggering revision, exported from the project's git cache, and its git
/// submodules when the run's plan asks for them (<see cref="RunPlan.Submodules"/>). Any builder instance can recreate
/// it, so a build retried elsewhere after a crash finds its sources.
/// </summary>
public sealed class Workspaces(GitRevisionCache git, BuilderOptions options, SubmoduleOptions? submodules = null)
{
    private readonly BuilderOptions _o = options;
    private readonly SubmoduleOptions _submodules = submodules ?? new SubmoduleOptions();

    // Parallel stages build from the same workspace: one export per run at a time, the others wait and reuse it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string PathOf(string runId) => Path.Combine(_o.WorkDir, "runs", runId);

    /// <summary>A build's own tree when earlier stages copied files for it (<see cref="CopiedFilesOverlay"/>).</summary>
    public string StepTreeOf(string runId, string step) =>
        Path.Combine(PathOf(runId), "steps", step.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && step is not ("." or "..")
            ? step : throw new ArgumentException($"step name '{step}' is not one path segment", nameof(step)));

    /// <param name="submodules">Also the revision's submodules (a refusal of one throws <see cref="RevisionRefusedException"/>, naming it).</param>
    /// <param name="gitDirectory">
    /// Also the checkout's <c>.git</c> (<see cref="GitRevisionCache.WriteGitDirectoryAsync"/>), as builds get it: made when a
    /// build first needs the workspace, so the plan job (reading only <c>.pipeline/</c>) does not wait for it.
    /// </param>
    /// <param name="depth">Commits in that <c>.git</c> (<see cref="RunPlan.FetchDepth"/>; 0 the whole history).</param>
    /// <param name="tags">That <c>.git</c> also holds the project's tags, fetched from the git server (<see cref="RunPlan.FetchTags"/>).</param>
    public async Task<string> EnsureAsync(string runId, RunTrigger trigger, CancellationToken ct, bool submodules = false, bool gitDirectory = false,
        int depth = GitRevisionCache.CheckoutDepth, bool tags = false)
    {
        var gate = _locks.GetOrAdd(runId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var src = await ExportAsync(runId, trigger, ct);
            if (gitDirectory) await AddGitDirectoryAsync(runId, trigger, src, depth, tags, ct);
            if (submodules) await AddSubmodulesAsync(runId, trigger, src, ct);
            return src;
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
        await git.CheckoutAsync(ProjectUrl(trigger.Project), trigger.Project, trigger.Ref, trigger.Revision, src, ct);
        await File.WriteAllTextAsync(done, trigger.Revision, ct);
        return src;
    }

    private async Task AddGitDirectoryAsync(string runId, RunTrigger trigger, string src, int depth, bool tags, CancellationToken ct)
    {
        var done = Path.Combine(PathOf(runId), ".git-directory");
        if (File.Exists(done)) return;
        await git.WriteGitDirectoryAsync(trigger.Project, trigger.Revision, src, RemoteOf(trigger.Project), ct, depth,
            tagsFrom: tags ? ProjectUrl(trigger.Project) : null);
        await File.WriteAllTextAsync(done, trigger.Revision, ct);
    }

    private async Task AddSubmodulesAsync(string runId, RunTrigger trigger, string src, CancellationToken ct)
    {
        var done = Path.Combine(PathOf(runId), ".submodules");
        if (File.Exists(done)) return;
        try
        {
            await git.CheckoutSubmodulesAsync(trigger.Project, trigger.Revision, src, ServerBase(), _submodules, ct);
        }
        catch
        {
            // Half of the submodules must never be built from: the next attempt starts from a fresh export.
            File.Delete(Path.Combine(PathOf(runId), ".complete"));
            DeleteDirectory(runId);
            throw;
        }
        await File.WriteAllTextAsync(done, trigger.Revision, ct);
    }

    /// <summary>The commit the run's revision names (a tag's object peeled), once <see cref="EnsureAsync"/> fetched it.</summary>
    public Task<string> CommitOfAsync(RunTrigger trigger, CancellationToken ct) => git.CommitOfAsync(trigger.Project, trigger.Revision, ct);

    /// <summary>The project's URL on the builder's git server, with the builder's credentials (for its own fetches only).</summary>
    private string ProjectUrl(string project) => $"{_o.GitUrl!.TrimEnd('/')}/{project}";

    /// <summary>The git server's base URL without credentials: submodules on it are fetched anonymously.</summary>
    private string ServerBase() => WithoutCredentials(_o.GitUrl!.TrimEnd('/')).TrimEnd('/');

    /// <summary>The project's git URL as <c>setup.remote</c> shows it: any user name or password removed.</summary>
    public string RemoteOf(string project) => WithoutCredentials(ProjectUrl(project));

    private static string WithoutCredentials(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : url;

    public void Remove(string runId)
    {
        _locks.TryRemove(runId, out _);
        DeleteDirectory(runId);
    }

    private void DeleteDirectory(string runId)
    {
        try { if (Directory.Exists(PathOf(runId))) Directory.Delete(PathOf(runId), recursive: true); }
        catch (IOException) { } // best effort: a build may still hold a file; the next cleanup gets it
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>A file of the checked-out revision, read inside it (<see cref="RepositoryFiles.Read"/>); null when there is none.</summary>
    public static string? ReadFile(string src, string relative, long maxBytes = RepositoryFiles.MaxFileBytes) =>
        RepositoryFiles.Read(src, relative, maxBytes);
}
