using Slipway.BuildConfig;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// Real teams' <c>.pipeline/</c> directories (RealConfigs/&lt;owner&gt;+&lt;repo&gt;, copied unchanged from public
/// repositories; each folder's README.md names the source and commit), planned and compiled as they are. Every repo
/// has an exact expected outcome: planned (pipelines and stage counts), or refused with the message, where the
/// refusal is one Blubber/PipelineLib would also make (kind a) or a documented stricter-for-safety rule (kind b).
/// </summary>
public class RealConfigCorpusTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private static readonly DateTimeOffset Now = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    /// <summary>The fixtures, copied next to the test assembly by the csproj (so any checkout directory works).</summary>
    /// <summary>
    /// As Wikimedia's Jenkins allowed them: SonarQube's token for the projects whose pipelines send coverage. Without
    /// it a merge run is refused with PipelineLib's own "Invalid Credential" (kind a).
    /// </summary>
    private static readonly PlanningOptions Options = PlanningOptions.Default with
    {
        Credentials = new Dictionary<string, IReadOnlyList<string>>
        {
            ["SONAR_API_KEY"] = ["mediawiki/services/push-notifications", "research/mwaddlink"],
        },
    };

    private static string CorpusRoot => Path.Combine(AppContext.BaseDirectory, "RealConfigs");

    private static IEnumerable<string> Repos() =>
        Directory.GetDirectories(CorpusRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    private static IEnumerable<string> ConfigRepoNames() =>
        Repos().Where(r => File.Exists(Path.Combine(CorpusRoot, r, ".pipeline", "config.yaml")));

    public static TheoryData<string> ConfigRepos()
    {
        var data = new TheoryData<string>();
        foreach (var r in ConfigRepoNames()) data.Add(r);
        return data;
    }

    public static TheoryData<string> AllRepos()
    {
        var data = new TheoryData<string>();
        foreach (var r in Repos()) data.Add(r);
        return data;
    }

    // ---- expected outcomes -------------------------------------------------------------------------------------

    /// <summary>
    /// Per repo with a config.yaml: the Gerrit project it is planned as (publish names are checked against it, as
    /// PipelineLib does), and the outcome of a patch-set run and of a merge run, one entry per pipeline in
    /// declaration order.
    /// </summary>
    private static readonly Dictionary<string, (string Project, string Patchset, string Merge)> PlanExpected = new()
    {
        ["toolforge+buildpack-admission-controller"] = ("cloud/toolforge/buildpack-admission-controller",
            "test: 2 stages",
            "test: 2 stages"),
        ["wikimedia+analytics-datahub"] = ("analytics/datahub",
            "gms-build: 1 stages\nfrontend-build: 1 stages\nmce-consumer-build: 1 stages\nmae-consumer-build: 1 stages\nupgrade-build: 1 stages\nmysql-setup-build: 1 stages\nelasticsearch-setup-build: 1 stages\nkafka-setup-build: 1 stages\ngms-publish: skipped\nfrontend-publish: skipped\nmce-consumer-publish: skipped\nmae-consumer-publish: skipped\nupgrade-publish: skipped\nmysql-setup-publish: skipped\nelasticsearch-setup-publish: skipped\nkafka-setup-publish: skipped",
            "gms-build: 1 stages\ngms-publish: 1 stages\nfrontend-build: 1 stages\nfrontend-publish: 1 stages\nmce-consumer-build: 1 stages\nmce-consumer-publish: 1 stages\nmae-consumer-build: 1 stages\nmae-consumer-publish: 1 stages\nupgrade-build: 1 stages\nupgrade-publish: 1 stages\nmysql-setup-build: 1 stages\nmysql-setup-publish: 1 stages\nelasticsearch-setup-build: 1 stages\nelasticsearch-setup-publish: 1 stages\nkafka-setup-build: 1 stages\nkafka-setup-publish: 1 stages"),
        ["wikimedia+analytics-quarry-web"] = ("analytics/quarry/web",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+cloud-toolforge-ingress-admission-controller"] = ("cloud/toolforge/ingress-admission-controller",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+labs-codesearch"] = ("labs/codesearch",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+labs-libraryupgrader"] = ("labs/libraryupgrader",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki"] = ("mediawiki/core",
            "publish: skipped",
            "publish: 1 stages"),
        ["wikimedia+mediawiki-services-citoid"] = ("mediawiki/services/citoid",
            "test: 2 stages\nrehearse: skipped\npublish: skipped",
            "test: 2 stages\nrehearse: 2 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-cxserver"] = ("mediawiki/services/cxserver",
            "test: 2 stages\npublish: skipped",
            "test: 2 stages\npublish: 1 stages"),
        // No `# syntax=` line: accepted as PipelineLib's default frontend (Blubber v0.11.1) accepted it, with
        // python.use-system-flag (removed in v0.23.0) warned about.
        ["wikimedia+mediawiki-services-image-suggestion-api"] = ("mediawiki/services/image-suggestion-api",
            "test: 1 stages\nproduction: skipped",
            "test: 1 stages\nproduction: 1 stages"),
        // Kind a: PipelineLib validates the config against pipelines.v0.yaml, whose `publish` allows only `image`
        // (additionalProperties: false); `type: image` is the pre-schema form.
        ["wikimedia+mediawiki-services-kartotherian"] = ("mediawiki/services/kartotherian",
            "kartotherian: refused at line 8: .pipeline/config.yaml: line 8: pipelines.kartotherian.stages[1].publish: unknown key `type` (allowed: image)\ntilerator: refused at line 16: .pipeline/config.yaml: line 16: pipelines.tilerator.stages[1].publish: unknown key `type` (allowed: image)",
            "kartotherian: refused at line 8: .pipeline/config.yaml: line 8: pipelines.kartotherian.stages[1].publish: unknown key `type` (allowed: image)\ntilerator: refused at line 16: .pipeline/config.yaml: line 16: pipelines.tilerator.stages[1].publish: unknown key `type` (allowed: image)"),
        ["wikimedia+mediawiki-services-function-evaluator"] = ("mediawiki/services/function-evaluator",
            "test: 4 stages",
            "test: 4 stages"),
        ["wikimedia+mediawiki-services-function-orchestrator"] = ("mediawiki/services/function-orchestrator",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+mediawiki-services-kask"] = ("mediawiki/services/kask",
            "test: 2 stages\nrehearse: skipped\npublish: skipped",
            "test: 2 stages\nrehearse: 2 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-mathoid"] = ("mediawiki/services/mathoid",
            "test: 2 stages\nrehearse: skipped\npublish: skipped",
            "test: 2 stages\nrehearse: 3 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-mobileapps"] = ("mediawiki/services/mobileapps",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+mediawiki-services-parsoid"] = ("mediawiki/services/parsoid",
            "publish: skipped",
            "publish: 1 stages"),
        // Patch set: kind b, a patch set's run never receives a credential (docs/security.md, docs/pipeline.md).
        ["wikimedia+mediawiki-services-push-notifications"] = ("mediawiki/services/push-notifications",
            "test: refused at line 20: pipeline `test`: stage `coverage`: `run.credentials`: credentials are given only to runs after merge, never to a patch set's run (run this pipeline post-merge, or leave it out of patch-set runs)\npublish: skipped",
            "test: 4 stages\npublish: 3 stages"),
        ["wikimedia+mediawiki-tools-scap"] = ("mediawiki/tools/scap",
            "buster: 1 stages\nbullseye: 1 stages",
            "buster: 1 stages\nbullseye: 1 stages"),
        ["wikimedia+operations-alerts"] = ("operations/alerts",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+operations-container-miscweb"] = ("operations/container/miscweb",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+operations-software-bitu"] = ("operations/software/bitu",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+ores"] = ("mediawiki/services/ores",
            "test: 3 stages",
            "test: 3 stages"),
        // Patch set: kind b, as for push-notifications.
        ["wikimedia+research-mwaddlink"] = ("research/mwaddlink",
            "test: refused at line 22: pipeline `test`: stage `coverage`: `run.credentials`: credentials are given only to runs after merge, never to a patch set's run (run this pipeline post-merge, or leave it out of patch-set runs)\npublish: skipped",
            "test: 3 stages\npublish: 4 stages"),
        ["wikimedia+research-recommendation-api"] = ("research/recommendation-api",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+wikimedia-security-security-api"] = ("wikimedia/security/security-api",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+wikimedia-toolhub"] = ("wikimedia/toolhub",
            "test: 5 stages",
            "test: 5 stages"),
    };

    /// <summary>
    /// Per Blubber file (repo/path) whose variants do not all compile: the outcome of each failing variant. Every
    /// other variant of every corpus Blubber file compiles.
    /// </summary>
    private static readonly Dictionary<string, string> BlubberRefusals = new()
    {
        // Kind a: Blubber accepts only `version: v4` (config/version.go, CurrentVersion, already in v0.11.1).
        ["wikimedia+mediawiki-services-eventstreams/.pipeline/blubber.yaml"] = "file: version: config version \"v3\" is unsupported (at version, line 1)",
    };

    // ---- tests -------------------------------------------------------------------------------------------------

    [Fact]
    public void The_corpus_holds_at_least_forty_repositories_and_every_config_has_an_expectation()
    {
        Assert.True(Repos().Count() >= 40, $"only {Repos().Count()} repositories in {CorpusRoot}");
        Assert.Equal(ConfigRepoNames().Order(StringComparer.Ordinal), PlanExpected.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ConfigRepos))]
    public void Each_real_config_plans_as_expected_on_a_patch_set(string repo) =>
        Assert.Equal(PlanExpected[repo].Patchset, Outcome(repo, PlanExpected[repo].Project, TriggerKind.Patchset));

    [Theory]
    [MemberData(nameof(ConfigRepos))]
    public void Each_real_config_plans_as_expected_after_merge(string repo) =>
        Assert.Equal(PlanExpected[repo].Merge, Outcome(repo, PlanExpected[repo].Project, TriggerKind.Merge));

    [Theory]
    [MemberData(nameof(AllRepos))]
    public void Every_variant_of_every_real_blubber_file_compiles_or_is_refused_as_expected(string repo)
    {
        var dir = Path.Combine(CorpusRoot, repo, ".pipeline");
        var files = Directory.GetFiles(dir, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "config.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var key = repo + "/" + Path.GetRelativePath(Path.Combine(CorpusRoot, repo), file).Replace('\\', '/');
            Assert.Equal(BlubberRefusals.GetValueOrDefault(key, ""), BlubberOutcome(File.ReadAllText(file)));
        }
    }

    // ---- outcomes as comparable text -----------------------------------------------------------------------------

    /// <summary>One line per pipeline: its stage count (and any refused build step), "skipped", or its refusal.</summary>
    private static string Outcome(string repo, string project, TriggerKind trigger)
    {
        var root = Path.Combine(CorpusRoot, repo);
        var result = RunPlanner.Plan(path => RepositoryFiles.Read(root, path), new PlanningContext(trigger, project, "master", Sha, Now), Options);
        if (result.Error is not null) return "error: " + result.Error;
        var lines = new List<string>();
        foreach (var name in result.Order)
        {
            if (result.Refused.FirstOrDefault(r => r.Pipeline == name) is { } refusal)
            {
                lines.Add($"{name}: refused at line {refusal.Line}: {refusal.Message}");
                continue;
            }
            var plan = result.Plans.First(p => p.Pipeline == name);
            var refusedBuilds = plan.Stages.SelectMany(s => s.Steps).Where(s => s.Build?.Refusal is not null).Select(s => $"; build {s.Name} refused: {s.Build!.Refusal}");
            lines.Add($"{name}: {plan.Stages.Count} stages{string.Concat(refusedBuilds)}");
        }
        lines.AddRange(result.Skipped.Select(s => $"{s.Pipeline}: skipped"));
        return string.Join("\n", lines);
    }

    /// <summary>Empty when every variant compiles; else one line per refused variant (or one for the whole file).</summary>
    private static string BlubberOutcome(string yaml)
    {
        BlubberConfig config;
        try
        {
            config = ConfigParser.Parse(yaml);
        }
        catch (BlubberException e)
        {
            return "file: " + e.Message;
        }
        var lines = new List<string>();
        foreach (var variant in config.Variants.Select(v => v.Name))
        {
            try
            {
                Blubber.Compile(yaml, variant);
            }
            catch (BlubberException e)
            {
                lines.Add($"{variant}: {e.Message}");
            }
        }
        return string.Join("\n", lines);
    }
}
