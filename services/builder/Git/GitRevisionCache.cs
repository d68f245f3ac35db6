using Slipway.Hosting;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Slipway.BuildConfig;

namespace Slipway.Builder.Git;

/// <summary>
/// Fetches exactly the revision that triggered a run into a per-project bare repository under
/// <c>cacheRoot</c> (so each fetch transfers only objects the cache lacks), then exports that revision's tree.
/// Uses the real <c>git</c> CLI. Fetches of one project are serialized; different projects run in parallel.
/// </summary>
public sealed partial class GitRevisionCache(string cacheRoot, ILogger<GitRevisionCache> logger)
{
    // Absolute, so every path handed to git is absolute and never mistaken for an option.
    private readonly string _root = Path.GetFullPath(cacheRoot);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    // Servers seen refusing a fetch of a revision by id that their ref held (e.g. protocol v0 without allowTipSHA1InWant).
    private readonly ConcurrentDictionary<string, bool> _byIdRefused = new(StringComparer.Ordinal);

    /// <summary>Time limit of one fetch (network) command.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time limit of local git commands (init, rev-parse, archive).</summary>
    public TimeSpan LocalTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Limits on an exported revision (files, bytes, path depth and length).</summary>
    public RevisionTreeOptions TreeLimits { get; init; } = new();

    /// <summary>How many fetches ran (a cache hit skips the fetch): for metrics and tests.</summary>
    public int FetchCount => _fetchCount;
    private int _fetchCount;

    /// <summary>
    /// Makes <paramref name="destinationDir"/> hold exactly the tree of <paramref name="revision"/>, fetched from
    /// <paramref name="refName"/> (<c>refs/changes/01/1/1</c>, <c>refs/heads/main</c> or a branch name) of
    /// <paramref name="repositoryUrl"/>. The destination must be absent or empty.
    /// </summary>
    public async Task CheckoutAsync(string repositoryUrl, string project, string refName, string revision, string destinationDir, CancellationToken ct)
    {
        ValidateUrl(repositoryUrl);
        var remoteRef = NormalizeRef(refName);
        if (!Sha().IsMatch(revision)) throw new GitCheckoutException($"revision \"{Printable(revision)}\" is not a full commit id (40 or 64 hex digits)");
        revision = revision.ToLowerInvariant();
        var repoDir = Path.Combine(_root, RepositoryDirectoryName(project));
        if (Directory.Exists(destinationDir) && Directory.EnumerateFileSystemEntries(destinationDir).Any())
            throw new GitCheckoutException($"destination {destinationDir} is not empty");

        var gate = GateOf(repoDir);
        await gate.WaitAsync(ct);
        var maintaining = false;
        try
        {
            // A repository made just now is empty: asking it for the revision would only cost a git process.
            bool created;
            using (BuilderTelemetry.Part("git-init")) created = await EnsureRepositoryAsync(repoDir, ct);
            var fetched = false;
            bool cached;
            using (BuilderTelemetry.Part("git-lookup")) cached = !created && await HasCommitAsync(repoDir, revision, ct);
            if (cached)
                logger.LogInformation("Revision {Revision} of {Project} already cached; no fetch", revision, project);
            else
            {
                using (BuilderTelemetry.Part("git-fetch")) await FetchAsync(repoDir, repositoryUrl, project, remoteRef, revision, ct);
                fetched = true;
            }
            using (BuilderTelemetry.Part("git-export")) await ExportAsync(repoDir, revision, destinationDir, ct);
            if (fetched)
            {
                maintaining = true;
                _ = MaintainThenReleaseAsync(repoDir, gate);
            }
        }
        finally
        {
            if (!maintaining) gate.Release();
        }
    }

    /// <summary>
    /// What fetch would run before returning (<c>git maintenance run --auto</c>: a gc when loose objects or packs pile up),
    /// run after the export instead, so the run does not wait for it. It keeps the project's gate until it ends, so
    /// the next fetch of the project never races it; bounded by <see cref="LocalTimeout"/>.
    /// </summary>
    private async Task MaintainThenReleaseAsync(string repoDir, SemaphoreSlim gate)
    {
        try
        {
            await GitCommand.RunAsync(["--git-dir", repoDir, "maintenance", "run", "--auto", "--quiet"], LocalTimeout, CancellationToken.None);
        }
        catch (GitCheckoutException e)
        {
            logger.LogWarning("git maintenance of {Repository} failed: {Reason}", Path.GetFileName(repoDir), e.Message);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The gate of one cached repository: its fetches, exports and maintenance run one at a time.</summary>
    private SemaphoreSlim GateOf(string repoDir) => _locks.GetOrAdd(repoDir, _ => new SemaphoreSlim(1, 1));

    /// <summary>
    /// The cache directory for a project: a readable part plus a hash, so distinct projects never share a
    /// directory (<c>a/b</c> and <c>a_b</c>) and no project name can point outside <c>cacheRoot</c>.
    /// </summary>
    public static string RepositoryDirectoryName(string project)
    {
        if (string.IsNullOrEmpty(project) || project.Length > 255 || !ProjectName().IsMatch(project)
            || project.Split('/').Any(s => s is "" or "." or ".."))
            throw new GitCheckoutException($"project name \"{Printable(project)}\" is not allowed (letters, digits, '.', '_', '-' and '/'-separated parts; no empty, '.' or '..' parts)");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(project)))[..12];
        var readable = project.Replace('/', '_');
        if (readable.Length > 80) readable = readable[..80];
        return $"{readable}-{hash}.git";
    }

    /// <summary>Creates the project's bare repository if it has none; true when it was created now (so it is empty).</summary>
    private async Task<bool> EnsureRepositoryAsync(string repoDir, CancellationToken ct)
    {
        var created = false;
        if (!File.Exists(Path.Combine(repoDir, "HEAD")))
        {
            Directory.CreateDirectory(_root);
            await GitCommand.RunAsync(["init", "--quiet", "--bare", repoDir], LocalTimeout, ct);
            created = true;
        }
        // Highest-precedence attributes: export the tree byte for byte, ignoring the tree's own
        // export-ignore/export-subst (a build must see exactly the committed files).
        var attributes = Path.Combine(repoDir, "info", "attributes");
        const string exact = "* -export-ignore -export-subst\n";
        if (!File.Exists(attributes) || File.ReadAllText(attributes) != exact)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(attributes)!);
            File.WriteAllText(attributes, exact);
        }
        return created;
    }

    /// <summary>
    /// The commit <paramref name="revision"/> names in the project's cache (an annotated tag's object peeled to its
    /// commit; a commit id as it is), once <see cref="CheckoutAsync"/> fetched it.
    /// </summary>
    public async Task<string> CommitOfAsync(string project, string revision, CancellationToken ct)
    {
        if (!Sha().IsMatch(revision)) throw new GitCheckoutException($"revision \"{Printable(revision)}\" is not a full object id (40 or 64 hex digits)");
        var repoDir = Path.Combine(_root, RepositoryDirectoryName(project));
        var commit = (await GitCommand.RunAsync(["--git-dir", repoDir, "rev-parse", "--verify", "--quiet", revision.ToLowerInvariant() + "^{commit}"],
            LocalTimeout, ct)).Trim();
        return Sha().IsMatch(commit) ? commit.ToLowerInvariant() : throw new GitCheckoutException($"{revision} of {project} names no commit");
    }

    private Task<bool> HasCommitAsync(string repoDir, string revision, CancellationToken ct) =>
        GitCommand.SucceedsAsync(["--git-dir", repoDir, "cat-file", "-e", revision + "^{commit}"], LocalTimeout, ct);

    private async Task FetchAsync(string repoDir, string url, string project, string remoteRef, string revision, CancellationToken ct)
    {
        // Our own namespace for fetched refs, so a ref from one change never overwrites another's.
        var localRef = "refs/slipway/" + remoteRef["refs/".Length..];
        logger.LogInformation("Fetching {Ref} of {Project} from {Url}", remoteRef, project, UrlCredentials.Redact(url));
        var started = DateTime.UtcNow;
        Interlocked.Increment(ref _fetchCount);
        var server = ServerOf(url);
        if (!_byIdRefused.ContainsKey(server))
        {
            // The revision by its id first: git's protocol v2 then skips listing the server's refs (one request of three
            // fewer, and no ref advertisement from a Gerrit with many changes). Stored under the same local ref, so
            // maintenance never drops it. A server that refuses wants of ids takes the ref fetch below.
            try
            {
                await GitCommand.RunAsync(["--git-dir", repoDir, "fetch", "--quiet", "--no-tags", "--no-auto-maintenance", url, $"+{revision}:{localRef}"],
                    FetchTimeout, ct);
                logger.LogInformation("Fetched {Revision} of {Project} by id in {Ms} ms", revision, project, (long)(DateTime.UtcNow - started).TotalMilliseconds);
                return;
            }
            catch (GitCheckoutException e)
            {
                logger.LogInformation("Fetching {Revision} of {Project} by id failed ({Reason}); fetching {Ref}", revision, project, e.Message, remoteRef);
            }
        }
        // The fetched tip comes from FETCH_HEAD, which fetch writes for its caller to read (documented in git-fetch(1)):
        // one git process fewer than asking rev-parse. Fetches of a project are serialized (the gate), so it is ours.
        var fetchHead = Path.Combine(repoDir, "FETCH_HEAD");
        File.Delete(fetchHead); // a stale one must never be read as this fetch's answer
        await GitCommand.RunAsync(["--git-dir", repoDir, "fetch", "--quiet", "--no-tags", "--no-auto-maintenance", url, $"+{remoteRef}:{localRef}"], FetchTimeout, ct);
        var tip = FetchedTip(fetchHead)
            ?? (await GitCommand.RunAsync(["--git-dir", repoDir, "rev-parse", "--verify", "--quiet", localRef + "^{commit}"], LocalTimeout, ct)).Trim();
        logger.LogInformation("Fetched {Ref} of {Project} at {Tip} in {Ms} ms", remoteRef, project, tip, (long)(DateTime.UtcNow - started).TotalMilliseconds);
        if (tip == revision)
        {
            // The server has the revision at the ref's tip yet refused it by id: it does not serve wants of ids, so
            // its later fetches go by ref at once.
            if (_byIdRefused.TryAdd(server, true))
                logger.LogInformation("{Server} does not serve fetches by id; fetching by ref from now on", UrlCredentials.Redact(server));
            return;
        }
        // A branch that moved forward still contains the revision: build exactly that revision. Anything else (a
        // rewritten branch, a replaced change ref) means the trigger's revision is not what the ref now holds.
        if (await HasCommitAsync(repoDir, revision, ct)
            && await GitCommand.SucceedsAsync(["--git-dir", repoDir, "merge-base", "--is-ancestor", revision, tip], LocalTimeout, ct))
        {
            logger.LogInformation("{Ref} of {Project} moved on to {Tip}; building {Revision}, an ancestor", remoteRef, project, tip, revision);
            return;
        }
        throw new GitCheckoutException($"{remoteRef} of {project} now points at {tip}, not {revision}: the ref moved and the revision is no longer reachable from it");
    }

    /// <summary>
    /// The object id on FETCH_HEAD's first line (<c>&lt;id&gt;TAB…</c>), deleted after reading; null when it is missing or not
    /// one id (then rev-parse answers). Not peeled: a tag there differs from the revision and takes the ancestor check below.
    /// </summary>
    private static string? FetchedTip(string fetchHead)
    {
        string? line;
        try
        {
            using (var reader = new StreamReader(fetchHead))
            {
                var buffer = new char[200]; // an id and a tab fit; nothing else of the file is needed
                var n = reader.ReadBlock(buffer, 0, buffer.Length);
                line = new string(buffer, 0, n);
            }
            File.Delete(fetchHead);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        var tab = line.IndexOf('\t', StringComparison.Ordinal);
        var id = tab < 0 ? null : line[..tab];
        return id is not null && Sha().IsMatch(id) ? id.ToLowerInvariant() : null;
    }

    private async Task<RevisionExport.Usage> ExportAsync(string repoDir, string revision, string destinationDir, CancellationToken ct,
        RevisionTreeOptions? limits = null)
    {
        Directory.CreateDirectory(destinationDir);
        // git archive streams the committed tree (of a commit only: a fetched tip equal to the revision was not type-checked); RevisionExport writes it, refusing anything that could reach outside it.
        UnsafePathException? refused = null;
        RevisionExport.Usage? usage = null;
        await GitCommand.RunAsync(["--git-dir", repoDir, "archive", "--format=tar", revision + "^{commit}"], LocalTimeout, ct, async stdout =>
        {
            try { usage = await RevisionExport.ExtractAsync(stdout, destinationDir, limits ?? TreeLimits, ct); }
            catch (UnsafePathException e)
            {
                refused = e;
                await stdout.CopyToAsync(Stream.Null, ct); // let git finish writing; the refusal is reported below
            }
        });
        if (refused is not null)
        {
            logger.LogWarning("Revision {Revision} refused: {Reason}", revision, refused.Message);
            try { Directory.Delete(destinationDir, recursive: true); } catch (IOException) { } // nothing of it is used
            throw new RevisionRefusedException(refused);
        }
        return usage!;
    }

    /// <summary>The server part of a repository URL (scheme, credentials, host, port), or the whole of a local path.</summary>
    private static string ServerOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !uri.IsFile ? uri.GetLeftPart(UriPartial.Authority) : url;

    private static string NormalizeRef(string refName)
    {
        var full = refName.StartsWith("refs/", StringComparison.Ordinal) ? refName : "refs/heads/" + refName;
        // git check-ref-format rules, stricter: no option-like or special characters at all.
        if (refName.Length is 0 or > 255 || !RefName().IsMatch(full) || full.Contains("..", StringComparison.Ordinal)
            || full.Contains("/.", StringComparison.Ordinal) || full.Contains("//", StringComparison.Ordinal)
            || full.EndsWith('/') || full.EndsWith(".lock", StringComparison.Ordinal) || full.EndsWith('.'))
            throw new GitCheckoutException($"ref \"{Printable(refName)}\" is not a valid ref name");
        return full;
    }

    private static void ValidateUrl(string url)
    {
        // A leading '-' would be read as an option; control characters have no place in a URL.
        if (string.IsNullOrWhiteSpace(url) || url.StartsWith('-') || url.Any(char.IsControl) || url.StartsWith("ext::", StringComparison.OrdinalIgnoreCase))
            throw new GitCheckoutException($"repository URL \"{Printable(UrlCredentials.Redact(url))}\" is not allowed");
    }

    private static string Printable(string s) => new(s.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex("^[A-Za-z0-9._/-]+$")]
    private static partial Regex ProjectName();

    [GeneratedRegex("^refs/[A-Za-z0-9._/+-]+$")]
    private static partial Regex RefName();

    [GeneratedRegex("^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")]
    private static partial Regex Sha();
}
