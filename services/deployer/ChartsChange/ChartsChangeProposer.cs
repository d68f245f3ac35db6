using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Slipway.Deployer.Config;
using Slipway.Gerrit.Rest;
using Slipway.Hosting;

namespace Slipway.Deployer.ChartsChange;

/// <summary>What to propose: one promote step's chart, environments and version, and where it came from.</summary>
public sealed record ChartsChangeRequest(string RunId, string Step, string Chart, IReadOnlyList<string> Environments, string Version,
    string ImageReference, string SourceProject, int? SourceChange, string SourceRevision, DateTimeOffset RunStartedAt);

/// <summary>The change in the charts project: its number, Change-Id, URL, patch set revision, and whether an earlier attempt had opened it.</summary>
public sealed record ChartsChangeResult(int Number, string ChangeId, string Url, string? Revision, IReadOnlyList<string> Files, bool AlreadyOpen);

/// <summary>
/// PipelineLib's promote change (PipelineRunner.updateCharts): clones the charts project's branch, sets
/// <c>main_app.version</c> in the chart's values file(s) as update_version.py does, commits "CHART: pipeline bot promote"
/// and pushes it to <c>refs/for/BRANCH%topic=pipeline-promote[,r=REVIEWER…]</c> with the operator's credentials; the
/// reviewers are the source change's owner and approver, as PipelineLib chose them, and the operator's.
/// Exactly once per run and step: the Change-Id derives from project, branch, run, step and chart, and an existing change
/// with it is found by REST before anything is pushed, so a replayed job (after a crash, a lost answer) opens no second
/// change. The commit's dates are the run's start, so a replay that still pushes pushes the same commit.
/// </summary>
public sealed class ChartsChangeProposer(ChartsChangeOptions options, ILogger<ChartsChangeProposer> logger) : IDisposable
{
    private const string UserVariable = "SLIPWAY_CHARTS_USER";
    private const string PasswordVariable = "SLIPWAY_CHARTS_PASSWORD";
    // Reads the operator's credentials from the environment: they never appear on a command line or in a URL.
    private const string CredentialHelper =
        "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$" + UserVariable + "\" \"$" + PasswordVariable + "\"; }; f";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private GerritRestClient? _rest;

    public bool Enabled => options.Enabled;

    public string Project => options.GerritProject;

    public string Branch => options.Branch;

    public static string ChangeIdFor(string project, string branch, string runId, string step, string chart) =>
        "I" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"slipway-promote\n{project}\n{branch}\n{runId}\n{step}\n{chart}")))[..40];

    /// <summary>Opens the change, or finds the one an earlier attempt opened; null when the branch already has this version.</summary>
    public async Task<ChartsChangeResult?> ProposeAsync(ChartsChangeRequest request, CancellationToken ct)
    {
        var edits = PlanEdits(request);
        var changeId = ChangeIdFor(options.GerritProject, options.Branch, request.RunId, request.Step, request.Chart);
        if (await FindAsync(changeId, ct) is { } existing)
        {
            logger.LogInformation("run {RunId}: the charts change {ChangeId} for {Chart} is already open as {Number}", request.RunId, changeId, request.Chart, existing.Number);
            return Result(existing, changeId, edits, alreadyOpen: true);
        }

        var work = Directory.CreateTempSubdirectory("slipway-charts-");
        try
        {
            var git = new GitCli(options.AuthorName, options.AuthorEmail, options.GitTimeout);
            var when = request.RunStartedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss+0000", CultureInfo.InvariantCulture);
            var env = new Dictionary<string, string>
            {
                [UserVariable] = options.HttpUser!, [PasswordVariable] = options.HttpPassword!,
                ["GIT_AUTHOR_DATE"] = when, ["GIT_COMMITTER_DATE"] = when,
            };
            var clone = Path.Combine(work.FullName, "charts");
            await Git(git, work.FullName, env, ct, "clone", "--quiet", "--depth", "1", "--single-branch", "--branch", options.Branch, "--no-tags", RepositoryUrl(), clone);
            var touched = new List<string>();
            foreach (var (path, version) in edits)
            {
                var full = ChartsPaths.Contained(clone, path);
                var before = File.Exists(full) ? await File.ReadAllTextAsync(full, ct) : null;
                if (version is not null)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                    await File.WriteAllTextAsync(full, ValuesVersionEditor.SetVersion(before, version), new UTF8Encoding(false), ct);
                }
                else if (before is null) continue; // no such environment file: nothing pins the version there
                else if (ValuesVersionEditor.RemoveVersion(before) is { } after) await File.WriteAllTextAsync(full, after, new UTF8Encoding(false), ct);
                else File.Delete(full);
                touched.Add(path);
            }
            await Git(git, clone, env, ct, ["add", "-A", "--", .. touched]);
            if ((await git.RunAsync(clone, ["diff", "--cached", "--quiet"], ct, check: false, environment: env)).Succeeded)
            {
                logger.LogInformation("run {RunId}: {Project} {Branch} already has {Chart} at {Version}; no change to open",
                    request.RunId, options.GerritProject, options.Branch, request.Chart, request.Version);
                return null;
            }
            await Git(git, clone, env, ct, "commit", "--quiet", "--no-verify", "-m", Message(request, changeId));
            var reviewers = await SourceReviewersAsync(request, ct);
            var push = await git.RunAsync(clone, ["-c", "credential.helper=", "-c", "credential.helper=" + CredentialHelper,
                "push", "--porcelain", "origin", PushRef(reviewers)], ct, check: false, environment: env);
            // Found after the push whatever it answered: a push whose answer was lost, or a race with a replay, still opened it.
            if (await FindAsync(changeId, ct) is { } opened)
            {
                logger.LogInformation("run {RunId}: opened charts change {Number} ({ChangeId}) for {Chart} at {Version}", request.RunId, opened.Number, changeId, request.Chart, request.Version);
                return Result(opened, changeId, edits, alreadyOpen: false);
            }
            throw new ChartsChangeException($"pushing the charts change to {options.GerritProject} failed ({push.ExitCode}): {Tail(push.StandardError + push.StandardOutput)}");
        }
        catch (ConfigRegistryException e)
        {
            throw new ChartsChangeException($"charts change for {request.Chart}: {e.Message}", inner: e);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The files to edit and the version each gets (null: the version is removed), as update_version.py decides.</summary>
    public IReadOnlyList<(string Path, string? Version)> PlanEdits(ChartsChangeRequest request)
    {
        var all = request.Environments.Count == 0 || options.EffectiveEnvironments.All(request.Environments.Contains);
        if (all)
            return [(ChartsPaths.Resolve(options.ValuesPath, request.Chart), request.Version),
                .. options.EffectiveEnvironments.Select(e => (ChartsPaths.Resolve(options.EnvironmentValuesPath, request.Chart, e), (string?)null))];
        return [.. request.Environments.Distinct().Select(e => (ChartsPaths.Resolve(options.EnvironmentValuesPath, request.Chart, e), (string?)request.Version))];
    }

    private async Task<ChangeInfo?> FindAsync(string changeId, CancellationToken ct)
    {
        try
        {
            var found = await Rest().QueryAsync($"{changeId} project:{options.GerritProject} branch:{options.Branch}", 2, ct, "CURRENT_REVISION");
            return found.FirstOrDefault(c => c.ChangeId == changeId);
        }
        catch (GerritRestException e)
        {
            throw new ChartsChangeException($"looking up the charts change in Gerrit failed: {e.Message}", permanent: e.AuthenticationFailed);
        }
        catch (HttpRequestException e)
        {
            throw new ChartsChangeException($"looking up the charts change in Gerrit failed: {e.Message}");
        }
    }

    private ChartsChangeResult Result(ChangeInfo change, string changeId, IReadOnlyList<(string Path, string? Version)> edits, bool alreadyOpen) =>
        new(change.Number, changeId, $"{options.Url!.TrimEnd('/')}/c/{options.GerritProject}/+/{change.Number}", change.CurrentRevision,
            [.. edits.Where(e => e.Version is not null).Select(e => e.Path)], alreadyOpen);

    private static string Message(ChartsChangeRequest r, string changeId)
    {
        var source = r.SourceChange is { } n ? $"{Line(r.SourceProject)} change {n}" : Line(r.SourceProject);
        return $"{Line(r.Chart)}: pipeline bot promote\n\n" +
            $"Promote {Line(r.Chart)} to version {Line(r.Version)}\n\n" +
            $"Image: {Line(r.ImageReference)}\nSource: {source} at {Line(r.SourceRevision)}\n\n" +
            $"Slipway-Run: {Line(r.RunId)}\nSlipway-Step: {Line(r.Step)}\nChange-Id: {changeId}\n";
    }

    // Each value stays on its line: a line break in one would add footers Gerrit acts on (CC:, a second Change-Id:).
    private static string Line(string? value) =>
        new((value ?? "").Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085' ? ' ' : c).Take(300).ToArray());

    // PipelineLib's topic, and the reviewers: added by the push that opens the change, so a replay (which finds
    // the change by its Change-Id and pushes nothing) never adds them again.
    private string PushRef(IEnumerable<string> sourceReviewers) => $"HEAD:refs/for/{options.Branch}%topic={options.Topic}" +
        string.Concat(sourceReviewers.Concat(options.Reviewers).Select(r => ",r=" + r));

    /// <summary>
    /// PipelineLib's <c>PipelineStage.getReviewers</c>: the source change's owner and the account whose Code-Review vote
    /// approved it (without one, its submitter), by account id, leaving out bots (<c>SERVICE_USER</c>), as the charts
    /// project's Gerrit shows them (PipelineLib read the change's detail view). A change that Gerrit does not show (another server, no
    /// permission to read it) adds none; an unreachable Gerrit is retried.
    /// </summary>
    private async Task<IReadOnlyList<string>> SourceReviewersAsync(ChartsChangeRequest request, CancellationToken ct)
    {
        if (request.SourceChange is not { } number) return [];
        ChangeInfo change;
        try
        {
            change = await Rest().GetChangeApprovalsAsync(request.SourceProject, number, ct);
        }
        catch (GerritRestException e) when (!e.Transient && !e.AuthenticationFailed)
        {
            logger.LogWarning("run {RunId}: the source change {Project}~{Number} is not readable on {Gerrit} ({Reason}); the charts change " +
                "gets the operator's reviewers only", request.RunId, request.SourceProject, number, options.Url, e.Message);
            return [];
        }
        catch (GerritRestException e)
        {
            throw new ChartsChangeException($"reading the source change {number} for its reviewers failed: {e.Message}", permanent: e.AuthenticationFailed);
        }
        static bool Bot(AccountInfo? a) => a?.Tags?.Contains("SERVICE_USER") == true;
        var author = Bot(change.Owner) ? null : change.Owner;
        var approved = change.Labels?.GetValueOrDefault("Code-Review")?.Approved;
        var plusTwo = approved is not null ? (Bot(approved) ? null : approved) : (Bot(change.Submitter) ? null : change.Submitter);
        return [.. new[] { author, plusTwo }.OfType<AccountInfo>().Select(a => a.AccountId).Where(id => id > 0).Distinct()
            .Select(id => id.ToString(CultureInfo.InvariantCulture))];
    }

    private string RepositoryUrl() => $"{options.Url!.TrimEnd('/')}/a/{options.GerritProject}";

    private GerritRestClient Rest() => _rest ??= new GerritRestClient(_http, options.Url!, options.HttpUser!, options.HttpPassword!);

    private static async Task Git(GitCli git, string dir, IReadOnlyDictionary<string, string> env, CancellationToken ct, params string[] args) =>
        await git.RunAsync(dir, ["-c", "credential.helper=", "-c", "credential.helper=" + CredentialHelper, .. args], ct, environment: env);

    private static string Tail(string text)
    {
        var t = UrlCredentials.Redact(text.Trim());
        return t.Length <= 1500 ? t : "…" + t[^1500..];
    }

    public void Dispose() => _http.Dispose();
}
