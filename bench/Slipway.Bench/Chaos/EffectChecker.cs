using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Slipway.Contracts;
using Slipway.Embedded;

namespace Slipway.Bench.Chaos;

/// <summary>
/// Checks a trial's effects where they land, not the events that announce them: Gerrit's posted reviews, the
/// registry's tags, the configuration registry's commits and the running containers. Events only say which runs
/// exist and what each published.
/// </summary>
public sealed partial class EffectChecker(ChaosStack stack, string project, string service)
{
    private static readonly Dictionary<string, int> Replicas = new() { ["staging"] = 1, ["production"] = 2 };

    public async Task<TrialFindings> CheckAsync(IReadOnlyList<Trigger> triggers, bool rollbackRequested)
    {
        var findings = new TrialFindings();
        var events = stack.Events;
        var starts = events.Where(e => e.Type == EventTypes.NameOf<RunStarted>())
            .Select(e => (e.RunId!, Data: e.DataAs<RunStarted>())).Where(r => r.Data.Trigger.Project == project)
            .DistinctBy(r => r.Item1).ToList();
        findings.Runs = starts.Count;

        // No trigger lost, none run twice.
        foreach (var trigger in triggers)
        {
            var runs = starts.Where(r => trigger.Matches(r.Data.Trigger)).ToList();
            if (runs.Count == 0) findings.Lost.Add($"{trigger}: no run");
            if (runs.Count > 1) findings.Duplicated.Add($"{trigger}: {runs.Count} runs ({string.Join(", ", runs.Select(r => r.Item1))})");
        }

        var finished = events.Where(e => e.Type == EventTypes.NameOf<RunFinished>())
            .GroupBy(e => e.RunId!).ToDictionary(g => g.Key, g => g.First().DataAs<RunFinished>());
        foreach (var (run, start) in starts)
        {
            if (!finished.TryGetValue(run, out var end)) { findings.Stuck.Add($"run {run} ({start.Trigger.Kind} {start.Trigger.Change}): never finished"); continue; }
            if (end.Outcome != RunOutcome.Succeeded) findings.FailedRuns++;
            CheckGerrit(findings, run, start, end);
        }
        CheckNoStrayGerritComments(findings, triggers, starts.Select(r => r.Item1).ToHashSet());

        var merges = starts.Where(r => r.Data.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate).Select(r => r.Item1).ToList();
        findings.SupersededDeploys = events.Where(e => e.Type == EventTypes.NameOf<DeploySucceeded>() && merges.Contains(e.RunId!))
            .Select(e => (e.RunId, Deploy: e.DataAs<DeploySucceeded>())).Where(d => d.Deploy.SupersededBy is not null)
            .DistinctBy(d => (d.RunId, d.Deploy.Environment)).Count();
        await CheckRegistryAsync(findings, events, merges);
        CheckConfigRegistry(findings, events, merges, rollbackRequested);
        CheckNewestMergeOwnsEachEnvironment(findings, events, triggers, starts, rollbackRequested);
        await CheckContainersAsync(findings);
        return findings;
    }

    /// <summary>Per run: one start comment, one final comment; a patch set's run (a recheck too) one Verified vote.</summary>
    private void CheckGerrit(TrialFindings findings, string run, RunStarted start, RunFinished end)
    {
        if (start.Trigger.Change is not { } change) return;
        var reviews = stack.Gerrit.Reviews(change).Where(r => r.Message?.Contains($"/runs/{run}") == true).ToList();
        var starts = reviews.Count(r => r.Message!.Contains(" started"));
        var finals = reviews.Count - starts;
        var votes = reviews.Count(r => r.Labels.ContainsKey("Verified"));
        var expectVote = start.Trigger.Kind is TriggerKind.Patchset or TriggerKind.Recheck ? 1 : 0;
        Compare(findings, $"run {run}: Gerrit start comment", starts, 1);
        Compare(findings, $"run {run}: Gerrit final comment ({end.Outcome})", finals, 1);
        Compare(findings, $"run {run}: Gerrit Verified vote", votes, expectVote);
    }

    /// <summary>
    /// Per change, every comment linking a run links one of this project's runs: a comment posted by a run whose start
    /// event was lost (or by a second, unrecorded run) would otherwise go unnoticed by the per-run counts.
    /// </summary>
    private void CheckNoStrayGerritComments(TrialFindings findings, IReadOnlyList<Trigger> triggers, HashSet<string> runs)
    {
        foreach (var change in triggers.Select(t => t.Change).Distinct())
            foreach (var review in stack.Gerrit.Reviews(change))
                if (RunLink().Match(review.Message ?? "") is { Success: true } m && !runs.Contains(m.Groups[1].Value))
                    findings.Duplicated.Add($"change {change}: a Gerrit comment of run {m.Groups[1].Value}, which no recorded run started");
    }

    /// <summary>Each published tag is in the registry at the run's one digest, and no tag was pushed for a run twice.</summary>
    private async Task CheckRegistryAsync(TrialFindings findings, IReadOnlyList<EventEnvelope> events, List<string> merges)
    {
        string? repositoryUri = null;
        var published = 0;
        foreach (var run in merges)
        {
            var images = events.Where(e => e.RunId == run && e.Type == EventTypes.NameOf<PublishSucceeded>())
                .Select(e => e.DataAs<PublishSucceeded>().Image).ToList();
            if (images.Count == 0) continue;
            published++;
            if (images.Select(i => i.Digest).Distinct().Count() > 1 || images.Select(i => string.Join(',', i.Tags)).Distinct().Count() > 1)
                findings.Duplicated.Add($"run {run}: published {images.Count} times with different digests or tags");
            var image = images[0];
            repositoryUri = image.Uri;
            foreach (var tag in image.Tags)
            {
                var digest = await ManifestDigestAsync(image.Uri, tag);
                if (digest is null) findings.Lost.Add($"run {run}: tag {tag} missing in the registry");
                else if (digest != image.Digest) findings.Duplicated.Add($"run {run}: tag {tag} at {digest}, published {image.Digest}");
            }
        }
        if (repositoryUri is null) return;
        var tags = await TagsAsync(repositoryUri);
        var timestampTags = tags.Count(t => t.EndsWith("-production", StringComparison.Ordinal));
        if (timestampTags > published) findings.Duplicated.Add($"registry {repositoryUri}: {timestampTags} timestamp tags for {published} published runs");
        // Every tag the repository holds was announced by a run's publish: a push whose publish was never recorded (a
        // retry after a crash that pushed under a new name) shows here.
        var announced = events.Where(e => e.Type == EventTypes.NameOf<PublishSucceeded>() && merges.Contains(e.RunId!))
            .SelectMany(e => e.DataAs<PublishSucceeded>().Image.Tags).ToHashSet();
        foreach (var tag in tags.Where(t => !announced.Contains(t)))
            findings.Duplicated.Add($"registry {repositoryUri}: tag {tag} no recorded publish announced");
    }

    /// <summary>One commit per environment per run that deployed there, plus one revert per rollback.</summary>
    private void CheckConfigRegistry(TrialFindings findings, IReadOnlyList<EventEnvelope> events, List<string> merges, bool rollbackRequested)
    {
        foreach (var environment in Replicas.Keys)
        {
            var log = Git("log", "--format=%B%x1e", "--", $"environments/{environment}/{service}.yaml")
                .Split('\u001e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var reverts = log.Count(c => c.Contains("This reverts commit"));
            foreach (var run in merges)
            {
                var deployed = events.Any(e => e.RunId == run && e.Type == EventTypes.NameOf<DeploySucceeded>()
                                               && e.DataAs<DeploySucceeded>() is { SupersededBy: null } d && d.Environment == environment);
                var commits = log.Count(c => c.Contains($"Slipway-Run: {run}") && !c.Contains("This reverts commit"));
                if (deployed && commits == 0) findings.Lost.Add($"run {run}: no {environment} commit in the config registry");
                if (commits > 1) findings.Duplicated.Add($"run {run}: {commits} {environment} commits in the config registry");
            }
            var automatic = events.Where(e => e.Type == EventTypes.NameOf<RollbackPerformed>())
                .Select(e => e.DataAs<RollbackPerformed>()).Where(r => r.Environment == environment && r.Reason != RollbackReason.Manual)
                .Select(r => r.FromDigest).Distinct().Count();
            var expected = automatic + (rollbackRequested && environment == "production" ? 1 : 0);
            Compare(findings, $"{environment}: config registry reverts", reverts, expected);
            // Every commit of the values file is a known run's deploy or a revert: a commit without a recorded run (a
            // second deployer's, or one whose run never existed) is a duplicated effect.
            var known = merges.ToHashSet();
            foreach (var commit in log.Where(c => !c.Contains("This reverts commit")))
                if (RunTrailer().Match(commit) is not { Success: true } m || !known.Contains(m.Groups[1].Value))
                    findings.Duplicated.Add($"{environment}: config registry commit '{commit.Split('\n')[0]}' of no recorded merge run");
        }
    }

    /// <summary>
    /// Per environment, the newest merge by Gerrit's merge order (the driver merges one at a time and records each) that
    /// reached the environment's deploy owns it: its deploy was not superseded, and the configuration registry's tip
    /// records its image; after the manual rollback, production's tip is the revert of that run's commit. An older run
    /// finishing last must not win. Merges whose deploy failed or rolled back automatically do not compete.
    /// </summary>
    private void CheckNewestMergeOwnsEachEnvironment(TrialFindings findings, IReadOnlyList<EventEnvelope> events, IReadOnlyList<Trigger> triggers,
        IReadOnlyList<(string RunId, RunStarted Data)> starts, bool rollbackRequested)
    {
        var mergeRuns = triggers.Where(t => t.Kind == TriggerKind.Merge)
            .Select(t => starts.FirstOrDefault(r => t.Matches(r.Data.Trigger)).RunId).OfType<string>().ToList();
        foreach (var environment in Replicas.Keys)
        {
            bool Of(EventEnvelope e, string run, string type) => e.RunId == run && e.Type == type;
            var reached = mergeRuns.Where(run =>
                events.Any(e => Of(e, run, EventTypes.NameOf<DeploySucceeded>()) && e.DataAs<DeploySucceeded>().Environment == environment)
                && !events.Any(e => Of(e, run, EventTypes.NameOf<DeployFailed>()) && e.DataAs<DeployFailed>().Environment == environment)
                && !events.Any(e => Of(e, run, EventTypes.NameOf<RollbackPerformed>())
                                    && e.DataAs<RollbackPerformed>() is { Reason: not RollbackReason.Manual } r && r.Environment == environment)).ToList();
            if (reached.Count == 0) continue;
            var newest = reached[^1];
            var deploys = events.Where(e => Of(e, newest, EventTypes.NameOf<DeploySucceeded>())).Select(e => e.DataAs<DeploySucceeded>())
                .Where(d => d.Environment == environment).ToList();
            if (deploys.FirstOrDefault(d => d.SupersededBy is not null) is { } superseded)
            {
                findings.Misordered.Add($"{environment}: run {newest}, merged last, was superseded by run {superseded.SupersededBy}");
                continue;
            }
            var path = $"environments/{environment}/{service}.yaml";
            var history = Git("log", "--format=%H%x1f%B%x1e", "--", path)
                .Split('\u001e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.Split('\u001f', 2)).ToList();
            if (history.Count == 0) continue; // no commit at all: the config check reports it as lost
            var own = history.FirstOrDefault(c => c[1].Contains($"Slipway-Run: {newest}") && !c[1].Contains("This reverts commit"))?[0];
            if (rollbackRequested && environment == "production")
            {
                if (own is null || !history[0][1].Contains($"This reverts commit {own}"))
                    findings.Misordered.Add($"{environment}: the tip {history[0][0][..12]} is not the rollback of run {newest}'s commit {own?[..12] ?? "(none)"} (merged last)");
                continue;
            }
            var recorded = ImageReference().Match(Git("show", $"HEAD:{path}")) is { Success: true } m ? m.Value : null;
            var image = deploys[^1].Image;
            if (recorded is null || !recorded.EndsWith("@" + image.Digest, StringComparison.Ordinal))
                findings.Misordered.Add($"{environment}: the config registry records {recorded ?? "no image"}, not {image.Digest} of run {newest} (merged last)");
        }
    }

    /// <summary>The containers running are what the configuration registry's tip records, as many as configured.</summary>
    private async Task CheckContainersAsync(TrialFindings findings)
    {
        foreach (var (environment, replicas) in Replicas)
        {
            var values = Git("show", $"HEAD:environments/{environment}/{service}.yaml");
            var recorded = ImageReference().Match(values) is { Success: true } m ? m.Value : null;
            var ps = await ProcessRunner.RunAsync("docker", ["ps", "--format", "{{.Names}}", "--filter", $"label=slipway.service={service}",
                "--filter", $"label=slipway.environment={environment}"]);
            var names = ps.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (recorded is null)
            {
                if (names.Length > 0) findings.Duplicated.Add($"{environment}: {names.Length} containers running, none recorded");
                continue;
            }
            if (names.Length < replicas) findings.Lost.Add($"{environment}: {names.Length} of {replicas} containers running");
            if (names.Length > replicas) findings.Duplicated.Add($"{environment}: {names.Length} containers running, {replicas} configured");
            foreach (var name in names)
            {
                var image = (await ProcessRunner.RunAsync("docker", ["inspect", "-f", "{{.Config.Image}}", name])).StdOut.Trim();
                if (image != recorded) findings.Duplicated.Add($"{environment}: {name} runs {image}, the registry records {recorded}");
            }
        }
    }

    private static void Compare(TrialFindings findings, string what, int actual, int expected)
    {
        if (actual < expected) findings.Lost.Add($"{what}: {actual}, expected {expected}");
        if (actual > expected) findings.Duplicated.Add($"{what}: {actual}, expected {expected}");
    }

    private string Git(params string[] args)
    {
        var result = ProcessRunner.RunAsync("git", ["--git-dir", stack.ConfigRepository, .. args]).GetAwaiter().GetResult();
        return result.Succeeded ? result.StdOut : "";
    }

    private HttpClient Registry()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var credentials = $"{stack.Infra["Registry__Username"]}:{stack.Infra["Registry__Password"]}";
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http;
    }

    private async Task<string?> ManifestDigestAsync(string uri, string tag)
    {
        var slash = uri.IndexOf('/');
        using var http = Registry();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{uri[..slash]}/v2/{uri[(slash + 1)..]}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
    }

    private async Task<IReadOnlyList<string>> TagsAsync(string uri)
    {
        var slash = uri.IndexOf('/');
        using var http = Registry();
        using var response = await http.GetAsync($"http://{uri[..slash]}/v2/{uri[(slash + 1)..]}/tags/list");
        if (!response.IsSuccessStatusCode) return [];
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Select(t => t.GetString()!).ToList() : [];
    }

    [GeneratedRegex(@"/runs/([A-Za-z0-9_-]+)")]
    private static partial Regex RunLink();

    [GeneratedRegex(@"Slipway-Run: (\S+)")]
    private static partial Regex RunTrailer();

    [GeneratedRegex(@"[^\s""']+@sha256:[0-9a-f]{64}")]
    private static partial Regex ImageReference();
}
