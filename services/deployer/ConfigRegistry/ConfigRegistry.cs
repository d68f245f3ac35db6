using Slipway.Hosting;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

// Namespace "Config", not "ConfigRegistry": a namespace named like its main class makes "ConfigRegistry" ambiguous in Slipway.Deployer code.
namespace Slipway.Deployer.Config;

/// <summary>
/// The configuration registry: a git repository with one values file per environment and service
/// (<c>environments/&lt;env&gt;/&lt;service&gt;.yaml</c>). Every deployment is a commit whose trailers say which
/// run and change it carries, so <c>git log</c> is the audit trail and a rollback is a <c>git revert</c>.
/// Works on a private clone under <see cref="ConfigRegistryOptions.WorkDir"/>; each operation starts from the
/// remote's tip, so several deployer instances (each with its own clone) can share one repository.
/// </summary>
public sealed partial class ConfigRegistry(ConfigRegistryOptions options, ILogger<ConfigRegistry> logger)
{
    // One writer per working clone within the process; clones of other processes are handled by push retries.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    private readonly GitCli _git = new(options.AuthorName, options.AuthorEmail, options.GitTimeout);
    private readonly string _workDir = Path.GetFullPath(options.WorkDir);
    private string RemoteRef => $"refs/remotes/origin/{options.Branch}";

    /// <summary>The values file's path in the repository, after validating both names.</summary>
    /// <exception cref="ArgumentException">A name is not <c>^[a-z0-9][a-z0-9-]{0,62}$</c> (e.g. <c>../x</c>).</exception>
    public static string ValuesPath(string environment, string service)
    {
        ValidateName("environment", environment);
        ValidateName("service", service);
        return $"environments/{environment}/{service}.yaml";
    }

    /// <summary>Refuses anything but a DNS-label-like name, which rules out path traversal and odd refs.</summary>
    public static void ValidateName(string kind, string? name)
    {
        if (name is null || !SafeName().IsMatch(name))
            throw new ArgumentException(
                $"{kind} name '{Truncate(name ?? "(null)", 80)}' is invalid: use 1-63 lowercase letters, digits or '-', starting with a letter or digit (no '/', '..' or spaces)",
                kind);
    }

    /// <summary>The values currently recorded for <paramref name="service"/> in <paramref name="environment"/>, or null.</summary>
    public async Task<ServiceValues?> GetAsync(string environment, string service, CancellationToken ct)
    {
        var path = ValuesPath(environment, service);
        return await LockedAsync(async () =>
        {
            await SyncAsync(ct);
            var content = ReadFile(path);
            return content is null ? null : ServiceValuesYaml.Deserialize(content, path);
        }, ct);
    }

    /// <summary>
    /// Records <paramref name="values"/> as what <paramref name="service"/> runs in <paramref name="environment"/>
    /// and pushes the commit. Idempotent: when the file already holds exactly these values, returns the latest
    /// commit that touched it and adds nothing, so a redelivered event never makes a second commit.
    /// </summary>
    /// <returns>The commit SHA recording the values.</returns>
    public async Task<string> RecordAsync(string environment, string service, ServiceValues values,
        DeploymentProvenance provenance, CancellationToken ct)
    {
        var path = ValuesPath(environment, service);
        var errors = values.Validate().ToList();
        if (errors.Count > 0) throw new ArgumentException($"values for {service} in {environment} are invalid: {string.Join("; ", errors)}", nameof(values));
        var content = ServiceValuesYaml.Serialize(values);

        var sha = await WriteWithRetriesAsync($"record {path}", async () =>
        {
            if (ReadFile(path) == content)
                return (await LastCommitTouchingAsync(path, ct))!;
            var full = FullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content, new UTF8Encoding(false), ct);
            await GitAsync(ct, "add", "--", path);
            var message = new StringBuilder()
                .Append("Deploy ").Append(service).Append(" to ").Append(environment).Append(": ").Append(ShortImage(values.Image)).Append("\n\n")
                .Append(CultureInfo.InvariantCulture, $"replicas {values.Replicas}, port {values.Port}\n\n")
                .Append(Trailers(environment, service, values.Image, provenance, reverts: null))
                .ToString();
            return await CommitAsync(message, ct);
        }, ct);
        logger.LogInformation("Config registry: {Path} records {Image} at {Commit} (run {RunId})", path, values.Image, sha, provenance.RunId);
        return sha;
    }

    /// <summary>
    /// Reverts the latest commit that touched the values file (a rollback is a revert) and pushes it. Reverting
    /// the commit that created the file removes it: the service then has no recorded values.
    /// </summary>
    /// <returns>The revert commit, or null when no commit touched the file.</returns>
    public Task<string?> RevertLastAsync(string environment, string service, string reason,
        DeploymentProvenance? provenance, CancellationToken ct) => RevertCoreAsync(environment, service, own: null, reason, provenance, ct);

    /// <summary>
    /// A run's failed rollout takes back its own commit <paramref name="own"/>, and only while it is still the latest
    /// change of the values file: when a newer run has recorded its image since, that run owns the service now and
    /// nothing is reverted (a revert of a newer commit would undo the wrong deployment).
    /// </summary>
    /// <returns>The revert commit, or null when nothing was reverted.</returns>
    public Task<string?> RevertAsync(string environment, string service, string own, string reason,
        DeploymentProvenance? provenance, CancellationToken ct) => RevertCoreAsync(environment, service, own, reason, provenance, ct);

    private async Task<string?> RevertCoreAsync(string environment, string service, string? own, string reason,
        DeploymentProvenance? provenance, CancellationToken ct)
    {
        var path = ValuesPath(environment, service);
        var sha = await WriteWithRetriesAsync<string?>($"revert {path}", async () =>
        {
            var target = await LastCommitTouchingAsync(path, ct);
            if (target is null) return null;
            if (own is not null && target != own)
            {
                logger.LogWarning("Config registry: {Path} changed after {Own} (now {Latest}); not reverting a newer deployment", path, own, target);
                return null;
            }
            var revert = await _git.RunAsync(_workDir, ["revert", "--no-commit", target], ct, check: false);
            if (!revert.Succeeded)
            {
                await _git.RunAsync(_workDir, ["revert", "--abort"], ct, check: false);
                throw new ConfigRegistryException($"cannot revert {target} of {path}: {UrlCredentials.Redact(revert.StandardError.Trim())}");
            }
            if ((await _git.RunAsync(_workDir, ["diff", "--cached", "--quiet"], ct, check: false)).Succeeded)
            {
                await _git.RunAsync(_workDir, ["revert", "--quit"], ct, check: false);
                return null; // the commit changed nothing left to undo
            }
            var restored = ReadFile(path) is { } content ? ServiceValuesYaml.Deserialize(content, path).Image : null;
            var message = new StringBuilder()
                .Append("Roll back ").Append(service).Append(" in ").Append(environment).Append(": revert ").Append(target[..12]).Append("\n\n");
            if (Clean(reason, 4000) is { Length: > 0 } why) message.Append(why).Append("\n\n");
            message.Append("This reverts commit ").Append(target).Append(".\n\n")
                .Append(Trailers(environment, service, restored, provenance, reverts: target));
            return await CommitAsync(message.ToString(), ct);
        }, ct);
        if (sha is not null) logger.LogWarning("Config registry: reverted the last change of {Path} at {Commit}: {Reason}", path, sha, reason);
        return sha;
    }

    /// <summary>
    /// A rollback's commit: what ran before and what runs now. <paramref name="Resumed"/>: the commit was made earlier for
    /// the same request (found by its <c>Slipway-Rollback-Request</c> trailer), not now; <paramref name="Superseded"/>: the
    /// values file changed after it (a newer deploy or rollback owns the service now).
    /// </summary>
    public sealed record Rollback(string Sha, ServiceValues From, ServiceValues To, string RestoredCommit, bool Resumed = false,
        string? Superseded = null);

    /// <summary>
    /// Rolls the service back to the last version deployed before the current one that was not itself rolled back
    /// (<see cref="RollbackTarget"/>), by committing that version's values, and pushes. Chosen on the synced tip under the
    /// write lock, so two rollbacks never pick the same target. With <paramref name="requestId"/>, the commit carries it
    /// as a trailer and a request whose commit exists already gets that commit back instead of a second one (a resumed
    /// job, a client's retry): each request walks back once.
    /// </summary>
    /// <returns>The rollback, or null when there is no earlier good version.</returns>
    public async Task<Rollback?> RollBackAsync(string environment, string service, string reason, DeploymentProvenance? provenance,
        CancellationToken ct, string? requestId = null)
    {
        var path = ValuesPath(environment, service);
        var done = await WriteWithRetriesAsync<Rollback?>($"roll back {path}", async () =>
        {
            if (!await HasHeadAsync(ct) || ReadFile(path) is not { } currentText) return null;
            var log = await GitAsync(ct, "log", "--reverse", "-n10000",
                "--format=%H%x1f%s%x1f%aN%x1f%aE%x1f%aI%x1f%(trailers:only,unfold)%x1e", "--", path);
            var history = log.Split('\x1e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseCommit).ToList();
            if (requestId is not null && history.FindLastIndex(c => c.Trailers.GetValueOrDefault(ConfigTrailers.RollbackRequest) == requestId) is var made and >= 0)
                return await MadeAlreadyAsync(path, history[made], made == history.Count - 1 ? null : history[^1].Sha, ct);
            if (RollbackTarget.Choose(history) is not { } choice) return null;
            var targetText = (await _git.RunAsync(_workDir, ["show", $"{choice.Target.Sha}:{path}"], ct)).StandardOutput;
            var from = ServiceValuesYaml.Deserialize(currentText, path);
            var to = ServiceValuesYaml.Deserialize(targetText, path);
            await File.WriteAllTextAsync(FullPath(path), targetText, new UTF8Encoding(false), ct);
            await GitAsync(ct, "add", "--", path);
            var replaces = choice.Replaces?.Sha ?? (await LastCommitTouchingAsync(path, ct))!;
            var message = new StringBuilder()
                .Append("Roll back ").Append(service).Append(" in ").Append(environment).Append(": ").Append(ShortImage(to.Image)).Append("\n\n");
            if (Clean(reason, 4000) is { Length: > 0 } why) message.Append(why).Append("\n\n");
            message.Append("This reverts commit ").Append(replaces).Append(" (").Append(ShortImage(from.Image)).Append(") and restores ")
                .Append(choice.Target.Sha).Append(".\n\n")
                .Append(Trailers(environment, service, to.Image, provenance, reverts: replaces))
                .Append(ConfigTrailers.Restores).Append(": ").Append(choice.Target.Sha).Append('\n');
            if (Clean(requestId, 200) is { Length: > 0 } request) message.Append(ConfigTrailers.RollbackRequest).Append(": ").Append(request).Append('\n');
            return new Rollback(await CommitAsync(message.ToString(), ct), from, to, choice.Target.Sha);
        }, ct);
        if (done is { Resumed: false })
            logger.LogWarning("Config registry: {Path} rolled back from {From} to {To} at {Commit}: {Reason}", path, done.From.Image, done.To.Image,
                done.Sha, reason);
        return done;
    }

    /// <summary>The rollback <paramref name="commit"/> made earlier for the same request: the values before and after it.</summary>
    private async Task<Rollback> MadeAlreadyAsync(string path, ConfigCommit commit, string? latest, CancellationToken ct)
    {
        var before = (await _git.RunAsync(_workDir, ["show", $"{commit.Sha}^:{path}"], ct)).StandardOutput;
        var after = (await _git.RunAsync(_workDir, ["show", $"{commit.Sha}:{path}"], ct)).StandardOutput;
        logger.LogInformation("Config registry: {Path} was rolled back at {Commit} for this request already{Later}", path, commit.Sha,
            latest is null ? "" : $"; changed since, now {latest}");
        return new Rollback(commit.Sha, ServiceValuesYaml.Deserialize(before, path), ServiceValuesYaml.Deserialize(after, path),
            commit.Trailers.GetValueOrDefault(ConfigTrailers.Restores) ?? "", Resumed: true, Superseded: latest);
    }

    /// <summary>The commits that touched the values file, newest first, at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<ConfigCommit>> HistoryAsync(string environment, string service, int max, CancellationToken ct)
    {
        var path = ValuesPath(environment, service);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await LockedAsync(async () =>
        {
            await SyncAsync(ct);
            if (!await HasHeadAsync(ct)) return (IReadOnlyList<ConfigCommit>)[];
            var log = await GitAsync(ct, "log", $"-n{Math.Min(max, 10_000)}",
                "--format=%H%x1f%s%x1f%aN%x1f%aE%x1f%aI%x1f%(trailers:only,unfold)%x1e", "--", path);
            return log.Split('\x1e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(ParseCommit).ToList();
        }, ct);
    }

    private static ConfigCommit ParseCommit(string record)
    {
        var f = record.Split('\x1f');
        var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in f[5].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (line.IndexOf(':') is > 0 and var colon)
                trailers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        return new ConfigCommit(f[0], f[1], f[2], f[3], DateTimeOffset.Parse(f[4], CultureInfo.InvariantCulture), trailers);
    }

    private static string Trailers(string environment, string service, string? image, DeploymentProvenance? p, string? reverts)
    {
        var t = new StringBuilder();
        void Add(string key, string? value)
        {
            if (Clean(value, 1000) is { Length: > 0 } v) t.Append(key).Append(": ").Append(v).Append('\n');
        }
        Add(ConfigTrailers.Environment, environment);
        Add(ConfigTrailers.Service, service);
        Add(ConfigTrailers.Image, image);
        Add(ConfigTrailers.Reverts, reverts);
        Add(ConfigTrailers.Run, p?.RunId);
        Add(ConfigTrailers.Change, p?.ChangeUrl);
        Add(ConfigTrailers.ChangeNumber, p?.ChangeNumber?.ToString(CultureInfo.InvariantCulture));
        Add(ConfigTrailers.Patchset, p?.Patchset?.ToString(CultureInfo.InvariantCulture));
        Add(ConfigTrailers.Revision, p?.Revision);
        Add(ConfigTrailers.RequestedBy, p?.By);
        return t.ToString();
    }

    // A value must stay on its trailer's line: newlines would let input forge other trailers.
    private static string? Clean(string? value, int max) =>
        value is null ? null : Truncate(ControlChars().Replace(value.ReplaceLineEndings(" "), " ").Trim(), max);

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max] + "…";

    private static string ShortImage(string image) =>
        image.IndexOf("@sha256:", StringComparison.Ordinal) is var at and >= 0 && image.Length >= at + 20 ? image[..(at + 20)] : image;

    /// <summary>
    /// Runs <paramref name="mutate"/> on a clone synced to the remote tip, then pushes. When the push loses a race
    /// with another writer (the remote moved), starts again from the new tip, so the change (and the idempotency
    /// check) is re-applied to what is really there, a bounded number of times.
    /// </summary>
    private async Task<T> WriteWithRetriesAsync<T>(string what, Func<Task<T>> mutate, CancellationToken ct) =>
        await LockedAsync(async () =>
        {
            for (var attempt = 1; ; attempt++)
            {
                var baseSha = await SyncAsync(ct);
                var result = await mutate();
                var head = await HasHeadAsync(ct) ? (await GitAsync(ct, "rev-parse", "HEAD")).Trim() : null;
                if (head is null || head == baseSha) return result; // nothing new to push
                var push = await _git.RunAsync(_workDir, ["push", "--porcelain", "origin", $"HEAD:refs/heads/{options.Branch}"], ct, check: false);
                if (push.Succeeded) return result;
                await _git.RunAsync(_workDir, ["fetch", "-q", "origin"], ct, check: false);
                var remote = await RevParseAsync(RemoteRef, ct);
                if (remote == baseSha || attempt >= options.MaxPushAttempts)
                    throw new ConfigRegistryException($"{what}: push failed after {attempt} attempt(s): {UrlCredentials.Redact(push.StandardError.Trim())}");
                logger.LogInformation("Config registry: {What} lost a push race (remote moved to {Remote}); retrying on the new tip", what, remote);
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt + Random.Shared.Next(50)), ct);
            }
        }, ct);

    private async Task<T> LockedAsync<T>(Func<Task<T>> action, CancellationToken ct)
    {
        var gate = Locks.GetOrAdd(_workDir, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try { return await action(); }
        finally { gate.Release(); }
    }

    /// <summary>Clones when needed, then makes the clone exactly the remote branch tip. Returns that tip (null when empty).</summary>
    private async Task<string?> SyncAsync(CancellationToken ct)
    {
        await EnsureCloneAsync(ct);
        await GitAsync(ct, "fetch", "-q", "--prune", "origin");
        await _git.RunAsync(_workDir, ["revert", "--quit"], ct, check: false); // leftovers of an interrupted revert
        await GitAsync(ct, "symbolic-ref", "HEAD", $"refs/heads/{options.Branch}");
        var remote = await RevParseAsync(RemoteRef, ct);
        if (remote is not null)
            await GitAsync(ct, "reset", "-q", "--hard", remote);
        else
        {
            // Empty remote: forget any local commit a failed push left behind.
            if (await HasHeadAsync(ct)) await GitAsync(ct, "update-ref", "-d", $"refs/heads/{options.Branch}");
            await GitAsync(ct, "read-tree", "--empty");
        }
        await GitAsync(ct, "clean", "-q", "-f", "-d", "-x");
        return remote;
    }

    private async Task EnsureCloneAsync(CancellationToken ct)
    {
        if (Directory.Exists(Path.Combine(_workDir, ".git"))) return;
        var url = options.RepositoryUrl;
        if (options.CreateIfMissing && IsLocalPath(url) && !Directory.Exists(LocalPath(url)))
        {
            var bare = LocalPath(url);
            Directory.CreateDirectory(bare);
            await _git.RunAsync(bare, ["init", "-q", "--bare", $"--initial-branch={options.Branch}"], ct);
            logger.LogInformation("Config registry: created the bare repository {Path}", bare);
        }
        if (Directory.Exists(_workDir) && Directory.EnumerateFileSystemEntries(_workDir).Any())
            throw new ConfigRegistryException($"ConfigRegistry:WorkDir {_workDir} exists, is not empty and is not a git clone");
        var parent = Path.GetDirectoryName(_workDir)!;
        Directory.CreateDirectory(parent);
        await _git.RunAsync(parent, ["clone", "-q", "--no-checkout", url, _workDir], ct);
        logger.LogInformation("Config registry: cloned {Url} into {WorkDir}", UrlCredentials.Redact(url), _workDir);
    }

    private static bool IsLocalPath(string url) => url.StartsWith("file://", StringComparison.Ordinal) || Path.IsPathRooted(url);

    private static string LocalPath(string url) => url.StartsWith("file://", StringComparison.Ordinal) ? new Uri(url).LocalPath : url;

    private async Task<string?> LastCommitTouchingAsync(string path, CancellationToken ct) =>
        await HasHeadAsync(ct) && (await GitAsync(ct, "log", "-1", "--format=%H", "--", path)).Trim() is { Length: > 0 } sha ? sha : null;

    private async Task<string> CommitAsync(string message, CancellationToken ct)
    {
        // --cleanup=whitespace keeps lines starting with '#' that a reason may contain.
        await _git.RunAsync(_workDir, ["commit", "-q", "--no-verify", "--cleanup=whitespace", "-F", "-"], ct, stdin: message);
        return (await GitAsync(ct, "rev-parse", "HEAD")).Trim();
    }

    private async Task<bool> HasHeadAsync(CancellationToken ct) => await RevParseAsync("HEAD", ct) is not null;

    private async Task<string?> RevParseAsync(string rev, CancellationToken ct)
    {
        var result = await _git.RunAsync(_workDir, ["rev-parse", "-q", "--verify", rev + "^{commit}"], ct, check: false);
        return result.Succeeded ? result.StandardOutput.Trim() : null;
    }

    private async Task<string> GitAsync(CancellationToken ct, params string[] args) => (await _git.RunAsync(_workDir, args, ct)).StandardOutput;

    private string FullPath(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(_workDir, relative));
        // Belt and braces behind ValidateName: never touch anything outside the clone.
        if (!full.StartsWith(_workDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) || full.Contains("/.git/"))
            throw new ArgumentException($"path '{relative}' leaves the configuration registry");
        return full;
    }

    private string? ReadFile(string relative)
    {
        var full = FullPath(relative);
        if (!File.Exists(full)) return null;
        if (new FileInfo(full).Length > ServiceValuesYaml.MaxBytes) throw new ConfigRegistryException($"{relative} is larger than {ServiceValuesYaml.MaxBytes} bytes");
        return File.ReadAllText(full, Encoding.UTF8);
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z")]
    private static partial Regex SafeName();

    [GeneratedRegex(@"[\p{Cc}]")]
    private static partial Regex ControlChars();
}
