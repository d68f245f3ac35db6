using System.Security.Cryptography;
using Slipway.Embedded;
using Slipway.GerritStandIn;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.Integration.Support;

/// <summary>A patch set that <see cref="GerritPush"/> pushed: where the stand-in put it, and what git printed.</summary>
public sealed record PushedPatchSet(int ChangeNumber, int PatchSet, string ChangeId, string Revision, string Ref, string PushOutput);

/// <summary>
/// Pushes a directory on disk to the Gerrit stand-in as a patch set, with the real git client over HTTP, as a
/// developer would: the commit's tree is exactly the directory (regular files, executable bits and symbolic links
/// as git records them — a link is stored as its target text, never followed; files a `.gitignore` names are
/// included; a nested `.git` is not), its parent the branch tip, its message the subject plus a `Change-Id:`
/// footer like Gerrit's commit-msg hook writes. So adversarial tests push real repository content, links
/// pointing out of the tree included.
/// </summary>
public static class GerritPush
{
    private static readonly Dictionary<string, string> GitEnvironment = new()
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0",
    };

    /// <summary>A new Change-Id, `I` and 40 hex digits (the commit-msg hook hashes the commit; any unique value works).</summary>
    public static string NewChangeId() => "I" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>
    /// Pushes <paramref name="directory"/> to `refs/for/<paramref name="branch"/>` as <paramref name="account"/>
    /// (default: the stand-in's developer, with its HTTP password). With the <paramref name="changeId"/> of an open
    /// change this is that change's next patch set; otherwise a new change. Throws with git's output (Gerrit's
    /// `remote:` lines and the rejection reason) when the push is refused. <paramref name="gitlinks"/> (path → commit) adds
    /// submodules to the tree.
    /// </summary>
    public static async Task<PushedPatchSet> PatchSetAsync(StandIn gerrit, string project, string directory, string subject,
        string? changeId = null, string branch = "master", GerritAccount? account = null, string? httpPassword = null,
        CancellationToken ct = default, IReadOnlyDictionary<string, string>? gitlinks = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException(directory);
        if (string.IsNullOrWhiteSpace(subject) || subject.Contains('\n')) throw new ArgumentException("one non-empty subject line", nameof(subject));
        account ??= gerrit.Developer;
        httpPassword ??= account == gerrit.Developer ? gerrit.DeveloperHttpPassword : null;
        if (httpPassword is null) throw new ArgumentException($"an HTTP password for {account.Username} is required", nameof(httpPassword));
        changeId ??= NewChangeId();
        var url = new UriBuilder(gerrit.HttpUrl) { UserName = account.Username, Password = httpPassword, Path = "/a/" + project }.Uri.ToString();

        var scratch = Directory.CreateTempSubdirectory("slipway-push-").FullName;
        try
        {
            var gitDir = Path.Combine(scratch, "git");
            var env = new Dictionary<string, string>(GitEnvironment)
            {
                ["GIT_DIR"] = gitDir, ["GIT_INDEX_FILE"] = Path.Combine(scratch, "index"), ["GIT_WORK_TREE"] = directory,
                ["GIT_AUTHOR_NAME"] = account.Name, ["GIT_AUTHOR_EMAIL"] = account.Email,
                ["GIT_COMMITTER_NAME"] = account.Name, ["GIT_COMMITTER_EMAIL"] = account.Email,
            };
            async Task<ProcessResult> Git(string? stdin, params string[] args)
            {
                var r = await ProcessRunner.RunAsync("git", args, stdin, env, TimeSpan.FromMinutes(2), ct);
                return r.Succeeded ? r : throw new InvalidOperationException($"git {args[0]} failed ({r.ExitCode}):\n{r.StdErr}{r.StdOut}");
            }

            await ProcessRunner.RunCheckedAsync("git", ["init", "-q", "--bare", gitDir], environment: GitEnvironment, ct: ct);
            await Git(null, "fetch", "-q", url, $"refs/heads/{branch}");
            var parent = (await Git(null, "rev-parse", "FETCH_HEAD")).StdOut.Trim();
            // -f: the directory is the tree, whatever a .gitignore in it says; symlinks and modes as git records them.
            await Git(null, "-C", directory, "-c", "core.symlinks=true", "-c", "core.fileMode=true", "add", "-A", "-f");
            // Submodules: gitlinks (path → commit), as `git submodule add` records them.
            foreach (var (path, linked) in gitlinks ?? new Dictionary<string, string>())
                await Git(null, "update-index", "--add", "--cacheinfo", $"160000,{linked},{path}");
            var tree = (await Git(null, "write-tree")).StdOut.Trim();
            var commit = (await Git($"{subject}\n\nChange-Id: {changeId}\n", "commit-tree", tree, "-p", parent)).StdOut.Trim();
            var push = await ProcessRunner.RunAsync("git", ["push", url, $"{commit}:refs/for/{branch}"], environment: env,
                timeout: TimeSpan.FromMinutes(2), ct: ct);
            var output = push.StdErr + push.StdOut;
            if (!push.Succeeded) throw new InvalidOperationException($"the push to refs/for/{branch} was refused:\n{output}");

            var refs = (await Git(null, "ls-remote", url, "refs/changes/*")).StdOut;
            var line = refs.Split('\n').FirstOrDefault(l => l.StartsWith(commit + "\t", StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"the pushed commit {commit} is under no refs/changes ref:\n{refs}");
            var name = line.Split('\t')[1];
            var parts = name.Split('/'); // refs/changes/NN/CHANGE/PS
            return new PushedPatchSet(int.Parse(parts[3]), int.Parse(parts[4]), changeId, commit, name, output);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Tags <paramref name="branch"/>'s tip as <paramref name="tag"/> (a lightweight tag, or an annotated one when
    /// <paramref name="message"/> is given) with `git push` as the stand-in's developer, who must be allowed to push
    /// directly (<c>AllowDirectPush</c>); returns the tagged commit.
    /// </summary>
    public static Task<string> TagBranchAsync(StandIn gerrit, string project, string branch, string tag, CancellationToken ct = default,
        string? message = null) =>
        InScratchRepositoryAsync(gerrit, project, ct, async (git, url) =>
        {
            await git("fetch", "-q", url, $"refs/heads/{branch}");
            var commit = (await git("rev-parse", "FETCH_HEAD")).Trim();
            if (message is null)
                await git("push", "-q", url, $"{commit}:refs/tags/{tag}");
            else
            {
                await git("tag", "-a", "-m", message, tag, commit);
                await git("push", "-q", url, $"refs/tags/{tag}:refs/tags/{tag}");
            }
            return commit;
        });

    /// <summary>Deletes tag <paramref name="tag"/> of <paramref name="project"/> with `git push :refs/tags/…` as the stand-in's developer.</summary>
    public static Task DeleteTagAsync(StandIn gerrit, string project, string tag, CancellationToken ct = default) =>
        InScratchRepositoryAsync(gerrit, project, ct, (git, url) => git("push", "-q", url, $":refs/tags/{tag}"));

    private delegate Task<string> GitRunner(params string[] args);

    /// <summary>
    /// Runs <paramref name="work"/> with git in a throwaway bare repository (removed afterwards) and the project's URL
    /// with the stand-in developer's credentials; a failing git command throws with its output.
    /// </summary>
    private static async Task<T> InScratchRepositoryAsync<T>(StandIn gerrit, string project, CancellationToken ct,
        Func<GitRunner, string, Task<T>> work)
    {
        var url = new UriBuilder(gerrit.HttpUrl)
        {
            UserName = gerrit.Developer.Username, Password = gerrit.DeveloperHttpPassword, Path = "/a/" + project,
        }.Uri.ToString();
        var scratch = Directory.CreateTempSubdirectory("slipway-tag-").FullName;
        try
        {
            var env = new Dictionary<string, string>(GitEnvironment)
            {
                ["GIT_DIR"] = scratch, ["GIT_COMMITTER_NAME"] = gerrit.Developer.Name, ["GIT_COMMITTER_EMAIL"] = gerrit.Developer.Email,
            };
            async Task<string> Git(params string[] args)
            {
                var r = await ProcessRunner.RunAsync("git", args, null, env, TimeSpan.FromMinutes(2), ct);
                return r.Succeeded ? r.StdOut : throw new InvalidOperationException($"git {args[0]} failed ({r.ExitCode}):\n{r.StdErr}{r.StdOut}");
            }
            await Git("init", "-q", "--bare", scratch);
            return await work(Git, url);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Writes <paramref name="files"/> (path → content; null skipped) under <paramref name="directory"/>, for pushing with <see cref="PatchSetAsync"/>.</summary>
    public static void WriteFiles(string directory, IReadOnlyDictionary<string, string?> files)
    {
        foreach (var (path, content) in files)
        {
            if (content is null) continue;
            var full = Path.GetFullPath(Path.Combine(directory, path));
            if (!full.StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new ArgumentException($"{path} is outside {directory}");
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
    }
}
