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
            ["SONAR_API_KEY"] = ["mediawiki/services/push-notifications", "research/mwaddlink", "mediawiki/services/geoshapes"],
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
        // publish-buildkit publishes only under a tag (`tag: '${setup.tag}'`): on a merge every tag is empty and nothing
        // is published, as PipelineLib (DeliveryExpected). rehearse and publish deploy `blubberoid`, a service project
        // `blubber` does not own unless the operator maps it (kind b: ownership, docs/pipeline.md).
        ["wikimedia+blubber@754bc36"] = ("blubber",
            "test: 2 stages\nrehearse: skipped\npublish: skipped\npublish-buildkit: skipped",
            "test: 2 stages\nrehearse: refused at line 20: pipeline `rehearse`: stage `rehearsal`: `deploy.chart.name` names service `blubberoid`, which project `blubber` does not own: it is not `blubber`, the service named after this project, nor mapped to this project by the operator; a run deploys and promotes only its own project's services\npublish: refused at line 38: pipeline `publish`: stage `rehearsal`: `deploy.chart.name` names service `blubberoid`, which project `blubber` does not own: it is not `blubber`, the service named after this project, nor mapped to this project by the operator; a run deploys and promotes only its own project's services\npublish-buildkit: 1 stages"),
        // Its Blubber file's dev variant has `destionation:` in a builder requirement: ignored, as Blubber ignores it.
        ["wikimedia+mediawiki-services-apple-search@4cb9c7e"] = ("mediawiki/services/apple-search",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        // "Add no-op CI pipelines": `test-swift: stages: []` beside real pipelines plans no step and runs nothing.
        ["wikimedia+mediawiki-libs-metrics-platform@6f4a552"] = ("mediawiki/libs/metrics-platform",
            "test-js: 1 stages\ntest-java: 1 stages\ntest-php: 1 stages\ntest-swift: 0 stages",
            "test-js: 1 stages\ntest-java: 1 stages\ntest-php: 1 stages\ntest-swift: 0 stages"),
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

        // ---- added with the second harvest (Gerrit project names as on gerrit.wikimedia.org) ----
        ["wikimedia+blubber-doc-example-calculator-service"] = ("blubber-doc/example/calculator-service",
            "test_pl: 1 stages\npublish_pl: skipped",
            "test_pl: 1 stages\npublish_pl: 1 stages"),
        ["wikimedia+cloud-toolforge-delete-crashing-pods"] = ("cloud/toolforge/delete-crashing-pods",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+cloud-toolforge-kube-container-updater"] = ("cloud/toolforge/kube-container-updater",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+cloud-toolforge-volume-admission-controller"] = ("cloud/toolforge/volume-admission-controller",
            "test: 2 stages",
            "test: 2 stages"),
        ["wikimedia+labs-tools-registry-admission-webhook"] = ("labs/tools/registry-admission-webhook",
            "test: 1 stages",
            "test: 1 stages"),
        // 37 pipelines over 33 Blubber files in sub-directories of .pipeline/.
        ["wikimedia+machinelearning-liftwing-inference-services"] = ("machinelearning/liftwing/inference-services",
            "outlink: 2 stages\nrevertrisk: 2 stages\nediting-suggestions: 2 stages\nedit-check: 2 stages\npre-commit-check: 1 stages\nrevise-tone-task-generator: 2 stages\nqwen36: 1 stages\nliftwing-openapi-server: 1 stages\ntts: 2 stages\ntts-section-generator: 2 stages\noutlink-publish: skipped\nrevertrisk-publish: skipped\nrevertrisk-multilingual-publish: skipped\nrevertrisk-wikidata-publish: skipped\nrevscoring-publish: skipped\nores-legacy-publish: skipped\nllm-publish: skipped\nreadability-publish: skipped\nlangid-publish: skipped\narticle-descriptions-publish: skipped\nhuggingface-publish: skipped\nlogo-detection-publish: skipped\narticlequality-publish: skipped\nreference-quality-publish: skipped\narticle-country-publish: skipped\nediting-suggestions-publish: skipped\nedit-check-publish: skipped\nrevise-tone-task-generator-publish: skipped\nembeddings-publish: skipped\nembeddings-transformers: skipped\npolicy-violation-gpt-oss-safeguard-publish: skipped\nqwen36-publish: skipped\npolicy-violation-cope-a-9b-publish: skipped\npolicy-violation-cope-b-a4b-publish: skipped\nliftwing-openapi-server-publish: skipped\ntts-publish: skipped\ntts-section-generator-publish: skipped",
            "outlink: 2 stages\noutlink-publish: 1 stages\nrevertrisk: 2 stages\nrevertrisk-publish: 1 stages\nrevertrisk-multilingual-publish: 1 stages\nrevertrisk-wikidata-publish: 1 stages\nrevscoring-publish: 1 stages\nores-legacy-publish: 1 stages\nllm-publish: 1 stages\nreadability-publish: 1 stages\nlangid-publish: 1 stages\narticle-descriptions-publish: 1 stages\nhuggingface-publish: 1 stages\nlogo-detection-publish: 1 stages\narticlequality-publish: 1 stages\nreference-quality-publish: 1 stages\narticle-country-publish: 1 stages\nediting-suggestions: 2 stages\nediting-suggestions-publish: 1 stages\nedit-check: 2 stages\nedit-check-publish: 1 stages\npre-commit-check: 1 stages\nrevise-tone-task-generator: 2 stages\nrevise-tone-task-generator-publish: 1 stages\nembeddings-publish: 1 stages\nembeddings-transformers: 1 stages\npolicy-violation-gpt-oss-safeguard-publish: 1 stages\nqwen36: 1 stages\nqwen36-publish: 1 stages\npolicy-violation-cope-a-9b-publish: 1 stages\npolicy-violation-cope-b-a4b-publish: 1 stages\nliftwing-openapi-server: 1 stages\nliftwing-openapi-server-publish: 1 stages\ntts: 2 stages\ntts-publish: 1 stages\ntts-section-generator: 2 stages\ntts-section-generator-publish: 1 stages"),
        ["wikimedia+mediawiki-services-apple-search"] = ("mediawiki/services/apple-search",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-change-propagation"] = ("mediawiki/services/change-propagation",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        // rehearse deploys to `ci` (a helm test); publish re-publishes ${candidate.imageID} and promotes the chart.
        ["wikimedia+mediawiki-services-example-node-api"] = ("mediawiki/services/example-node-api",
            "test: 1 stages\nrehearse: skipped\npublish: skipped",
            "test: 1 stages\nrehearse: 3 stages\npublish: 2 stages"),
        ["wikimedia+mediawiki-services-function-schemata"] = ("mediawiki/services/function-schemata",
            "test: 4 stages",
            "test: 4 stages"),
        // Patch set: kind b, as for push-notifications; after merge the operator allows SONAR_API_KEY (Options above).
        ["wikimedia+mediawiki-services-geoshapes"] = ("mediawiki/services/geoshapes",
            "test: refused at line 20: pipeline `test`: stage `coverage`: `run.credentials`: credentials are given only to runs after merge, never to a patch set's run (run this pipeline post-merge, or leave it out of patch-set runs)\npublish: skipped",
            "test: 4 stages\npublish: 3 stages"),
        ["wikimedia+mediawiki-services-poolcounter"] = ("mediawiki/services/poolcounter",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+mediawiki-services-wikifeeds"] = ("mediawiki/services/wikifeeds",
            "test: 2 stages\npublish: skipped",
            "test: 2 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-wikispeech-mary-tts"] = ("mediawiki/services/wikispeech/mary-tts",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-wikispeech-mishkal"] = ("mediawiki/services/wikispeech/mishkal",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-wikispeech-wikispeech-server"] = ("mediawiki/services/wikispeech/wikispeech-server",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        // Kind a: the blubber file defines no `production` variant, which Blubber refuses to compile, so PipelineLib's
        // build step failed too. Only that build is refused; the test stage runs.
        ["wikimedia+node-rdkafka-statsd"] = ("node-rdkafka-statsd",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages; build production-build refused: .pipeline/blubber.yaml: variant \"production\" is not defined (defined: build, test)"),
        // Third harvest: test and publish pipelines, publish re-running the tests first.
        ["wikimedia+operations-software-tegola"] = ("operations/software/tegola",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+research-landing-page"] = ("research/landing-page",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+restbase"] = ("mediawiki/services/restbase",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+wikibase-termbox"] = ("wikibase/termbox",
            "test: 2 stages\nrehearse: skipped\npublish: skipped",
            "test: 2 stages\nrehearse: 2 stages\npublish: 1 stages"),
        ["wikimedia+wikimedia-developer-portal"] = ("wikimedia/developer-portal",
            "test: 2 stages\npublish: skipped",
            "test: 2 stages\npublish: 1 stages"),
        ["wikimedia+wikimedia-irc-ircservserv-config"] = ("wikimedia/irc/ircservserv-config",
            "test: 1 stages",
            "test: 1 stages"),
        // PipelineLib's own system-test repository (systemtests/repo1): `directory:` pipelines with per-service Blubber
        // files, a parallel execution graph, build context and excludes, exports, trigger, tail and `${cat.output}`,
        // copy and archive. service1 publishes and service2 triggers, so both run after merge only (docs/pipeline.md).
        // test-list-comprehensions: `$each`/`$in` over `${sequence.output}` is kept in the plan and expanded when the
        // stage runs, as PipelineLib expands it.
        ["wikimedia+integration-pipelinelib"] = ("integration/pipelinelib",
            "test-build-options: 1 stages\ntest-checkout-binding: 1 stages\ntest-command-output: 2 stages\ntest-list-comprehensions: 2 stages\ntest-copy: 2 stages\ntest-copy-archive: 1 stages\ntest-copy-archive-directory: 1 stages\ntest-T287507: 4 stages\nservice1: skipped\nservice2: skipped",
            "service1: 3 stages\nservice2: 1 stages\ntest-build-options: 1 stages\ntest-checkout-binding: 1 stages\ntest-command-output: 2 stages\ntest-list-comprehensions: 2 stages\ntest-copy: 2 stages\ntest-copy-archive: 1 stages\ntest-copy-archive-directory: 1 stages\ntest-T287507: 4 stages"),
        // Later commits of repos above whose older Blubber file is in the corpus: test, and publish re-running the tests.
        ["wikimedia+mediawiki-services-chromium-render@3c4ef40"] = ("mediawiki/services/chromium-render",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+mediawiki-services-eventstreams@7d6ac81"] = ("mediawiki/services/eventstreams",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        // Patch set: kind b (no credential on a patch set). Merge: kind a, PipelineLib's own "Invalid Credential": the
        // operator has not allowed WVUI_NPM_TOKEN for wvui here.
        ["wikimedia+wvui"] = ("wvui",
            "test: 1 stages\nproduction: 1 stages\nrelease: refused at line 17: pipeline `release`: stage `release`: `run.credentials`: credentials are given only to runs after merge, never to a patch set's run (run this pipeline post-merge, or leave it out of patch-set runs)",
            "test: 1 stages\nproduction: 1 stages\nrelease: refused at line 17: pipeline `release`: stage `release`: Invalid Credential: 'WVUI_NPM_TOKEN'. Allowed credentials for wvui: [] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)"),
        // Fourth harvest (2026-11-29): newer commits and repositories found through integration-config's Zuul layout.
        // Kind a: `run: test` is neither a boolean nor a mapping (pipelines.v0.yaml; PipelineStage.defaultConfig would fail on it too).
        ["martaannaj+RecommenderServer"] = ("RecommenderServer",
            "test: refused at line 7: .pipeline/config.yaml: line 7: pipelines.test.stages[0].run: must be true, false or a mapping, not a string",
            "test: refused at line 7: .pipeline/config.yaml: line 7: pipelines.test.stages[0].run: must be true, false or a mapping, not a string"),
        ["wikimedia+integration-pipelinelib@root-b23da56"] = ("integration/pipelinelib",
            "test: 1 stages",
            "test: 1 stages"),
        ["wikimedia+labs-striker@e4bce92"] = ("labs/striker",
            "test: 2 stages\npublish: skipped",
            "test: 2 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-libs-Shellbox@f6ad015"] = ("mediawiki/libs/Shellbox",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 6 stages"),
        ["wikimedia+mediawiki-libs-metrics-platform"] = ("mediawiki/libs/metrics-platform",
            "test-js: 1 stages\ntest-java: 1 stages\ntest-php: 1 stages\ntest-swift: 1 stages",
            "test-js: 1 stages\ntest-java: 1 stages\ntest-php: 1 stages\ntest-swift: 1 stages"),
        // Merge: kind a, PipelineLib (since 2022-09) refuses a publish name that the project name does not prefix.
        ["wikimedia+mediawiki-services-function-evaluator@58786ea"] = ("mediawiki/services/function-evaluator",
            "test: 12 stages\npublish: skipped",
            "test: 12 stages\npublish: refused at line 53: pipeline `publish`: stage `build-and-publish-python3-all`: image name `wikimedia-mediawiki-services-function-evaluator-python3-all` must match or be prefixed by the full or short project name (`mediawiki-services-function-evaluator` or `function-evaluator`)"),
        ["wikimedia+mediawiki-services-ipoid"] = ("mediawiki/services/ipoid",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 1 stages"),
        // Pins Blubber v0.21.0, whose `builders` entries were not validated (a requirement without `from` is local; docs/blubber.md).
        ["wikimedia+mediawiki-services-kartotherian@304a264"] = ("mediawiki/services/kartotherian",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+mediawiki-services-push-notifications@c693116"] = ("mediawiki/services/push-notifications",
            "test: 2 stages\npublish: skipped",
            "test: 2 stages\npublish: 1 stages"),
        ["wikimedia+mediawiki-services-service-scaffold-node"] = ("mediawiki/services/service-scaffold-node",
            "test: 1 stages\nproduction: 1 stages",
            "test: 1 stages\nproduction: 1 stages"),
        ["wikimedia+mediawiki-services-servicelib-node"] = ("mediawiki/services/servicelib-node",
            "spec: 2 stages\ninit: 2 stages\nutils: 2 stages\nexamples: 2 stages",
            "spec: 2 stages\ninit: 2 stages\nutils: 2 stages\nexamples: 2 stages"),
        ["wikimedia+mediawiki-services-similar-users@3d524fe"] = ("mediawiki/services/similar-users",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
        ["wikimedia+wikimedia-toolhub@f1cd1c8"] = ("wikimedia/toolhub",
            "test: 4 stages\npublish: skipped",
            "test: 4 stages\npublish: 1 stages"),
        ["zotero+translation-server"] = ("mediawiki/services/zotero",
            "test: 1 stages\npublish: skipped",
            "test: 1 stages\npublish: 2 stages"),
    };

    /// <summary>
    /// Per Blubber file (repo/path) whose variants do not all compile: the outcome of each failing variant. Every
    /// other variant of every corpus Blubber file compiles.
    /// </summary>
    private static readonly Dictionary<string, string> BlubberRefusals = new()
    {
        // Kind a: Blubber accepts only `version: v4` (config/version.go, CurrentVersion, already in v0.11.1).
        ["wikimedia+mediawiki-services-eventstreams/.pipeline/blubber.yaml"] = "file: version: config version \"v3\" is unsupported (at version, line 1)",
        // service2's file in PipelineLib's system-test repository is still v3; its pipeline builds nothing from it.
        ["wikimedia+integration-pipelinelib/.pipeline/service2/blubber.yaml"] = "file: version: config version \"v3\" is unsupported (at version, line 1)",
        ["wikimedia+mediawiki-services-open-nsfw/.pipeline/blubber.yaml"] = "file: version: config version \"v3\" is unsupported (at version, line 1)",
        ["wikimedia+wikilabels/.pipeline/blubber.yaml"] = "file: version: config version \"v3\" is unsupported (at version, line 1)",
    };

    /// <summary>
    /// Per repo (one with a config.yaml): the publish, promote and deploy steps of a merge run, as <see cref="Deliveries"/>
    /// prints them: image names from <c>${setup.project}</c>, tags from <c>${setup.tag}</c>, images taken from another
    /// stage (<c>${candidate.imageID}</c>), charts owned by the project.
    /// </summary>
    private static readonly Dictionary<string, string> DeliveryExpected = new()
    {
        // `tags: [latest]` (this and the next five): PipelineLib pushed `latest`; Slipway never does (design: an image
        // always names its build). The tag is left out with a note in the plan; the rest publishes as written.
        ["wikimedia+analytics-datahub"] = "gms-publish/production-publish: publish datahub-gms [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\ngms-publish note: stage `production`: `publish.image.tags` (line 16): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nfrontend-publish/production-publish: publish datahub-frontend [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nfrontend-publish note: stage `production`: `publish.image.tags` (line 31): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nmce-consumer-publish/production-publish: publish datahub-mce-consumer [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nmce-consumer-publish note: stage `production`: `publish.image.tags` (line 46): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nmae-consumer-publish/production-publish: publish datahub-mae-consumer [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nmae-consumer-publish note: stage `production`: `publish.image.tags` (line 61): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nupgrade-publish/production-publish: publish datahub-upgrade [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nupgrade-publish note: stage `production`: `publish.image.tags` (line 76): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nmysql-setup-publish/production-publish: publish datahub-mysql-setup [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nmysql-setup-publish note: stage `production`: `publish.image.tags` (line 91): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nelasticsearch-setup-publish/production-publish: publish datahub-elasticsearch-setup [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nelasticsearch-setup-publish note: stage `production`: `publish.image.tags` (line 106): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)\nkafka-setup-publish/production-publish: publish datahub-kafka-setup [0123456789abcdef0123456789abcdef01234567-production] tag 0123456789abcdef0123456789abcdef01234567-production from production-build\nkafka-setup-publish note: stage `production`: `publish.image.tags` (line 121): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+blubber@754bc36"] = "publish-buildkit note: stage `publish-buildkit-gateway`: `publish.image` (line 58): every tag is empty on this run (`tag` `${setup.tag}`), so nothing is published, as PipelineLib publishes nothing then",
        ["wikimedia+mediawiki-services-apple-search@4cb9c7e"] = "publish/production-publish: publish mediawiki-services-apple-search [production] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+blubber-doc-example-calculator-service"] = "publish_pl/production-publish: publish blubber-doc-example-calculator-service [stable] tag 2026-03-04-050607-production from production-build",
        // Image names from '${setup.project}-<model>', checked against the project as PipelineLib does.
        ["wikimedia+machinelearning-liftwing-inference-services"] =
            "outlink-publish/publish-publish: publish machinelearning-liftwing-inference-services-outlink [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "revertrisk-publish/publish-publish: publish machinelearning-liftwing-inference-services-revertrisk [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "revertrisk-multilingual-publish/publish-publish: publish machinelearning-liftwing-inference-services-revertrisk-multilingual [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "revertrisk-wikidata-publish/publish-publish: publish machinelearning-liftwing-inference-services-revertrisk-wikidata [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "revscoring-publish/publish-publish: publish machinelearning-liftwing-inference-services-revscoring [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "ores-legacy-publish/publish-publish: publish machinelearning-liftwing-inference-services-ores-legacy [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "llm-publish/publish-publish: publish machinelearning-liftwing-inference-services-llm [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "readability-publish/publish-publish: publish machinelearning-liftwing-inference-services-readability [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "langid-publish/publish-publish: publish machinelearning-liftwing-inference-services-langid [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "article-descriptions-publish/publish-publish: publish machinelearning-liftwing-inference-services-article-descriptions [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "huggingface-publish/publish-publish: publish machinelearning-liftwing-inference-services-huggingface [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "logo-detection-publish/publish-publish: publish machinelearning-liftwing-inference-services-logo-detection [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "articlequality-publish/publish-publish: publish machinelearning-liftwing-inference-services-articlequality [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "reference-quality-publish/publish-publish: publish machinelearning-liftwing-inference-services-reference-quality [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "article-country-publish/publish-publish: publish machinelearning-liftwing-inference-services-article-country [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "editing-suggestions-publish/publish-publish: publish machinelearning-liftwing-inference-services-editing-suggestions [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "edit-check-publish/publish-publish: publish machinelearning-liftwing-inference-services-edit-check [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "revise-tone-task-generator-publish/publish-publish: publish machinelearning-liftwing-inference-services-revise-tone-task-generator [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "embeddings-publish/publish-publish: publish machinelearning-liftwing-inference-services-embeddings [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "embeddings-transformers/publish-publish: publish machinelearning-liftwing-inference-services-embeddings-transformers [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "policy-violation-gpt-oss-safeguard-publish/publish-publish: publish machinelearning-liftwing-inference-services-policy-violation-gpt-oss-safeguard [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "qwen36-publish/publish-publish: publish machinelearning-liftwing-inference-services-qwen36 [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "policy-violation-cope-a-9b-publish/publish-publish: publish machinelearning-liftwing-inference-services-policy-violation-cope-a-9b [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "policy-violation-cope-b-a4b-publish/publish-publish: publish machinelearning-liftwing-inference-services-policy-violation-cope-b-a4b [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "liftwing-openapi-server-publish/publish-publish: publish machinelearning-liftwing-inference-services-liftwing-openapi-server [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "tts-publish/publish-publish: publish machinelearning-liftwing-inference-services-tts [stable] tag 2026-03-04-050607-publish from publish-build\n" +
            "tts-section-generator-publish/publish-publish: publish machinelearning-liftwing-inference-services-tts-section-generator [stable] tag 2026-03-04-050607-publish from publish-build",
        ["wikimedia+mediawiki-services-apple-search"] = "publish/production-publish: publish mediawiki-services-apple-search [production] tag 2026-03-04-050607-production from production-build\npublish/production-promote: promote apple-search to [] from production-publish",
        ["wikimedia+mediawiki-services-change-propagation"] = "publish/production-publish: publish mediawiki-services-change-propagation [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-example-node-api"] = "rehearse/candidate-publish: publish mediawiki-services-example-node-api [] tag 2026-03-04-050607-candidate from candidate-build\nrehearse/rehearsal-deploy: deploy example-node-api to ci from candidate-publish\npublish/candidate-publish: publish mediawiki-services-example-node-api [] tag 2026-03-04-050607-candidate from candidate-build\npublish/production-publish: publish mediawiki-services-example-node-api [] tag 2026-03-04-050607-production from candidate-build\npublish/production-promote: promote example-node-api to [] from production-publish",
        ["wikimedia+mediawiki-services-function-orchestrator"] = "publish/production-publish: publish mediawiki-services-function-orchestrator [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 19): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+integration-pipelinelib"] = "service1/candidate-publish: publish integration-pipelinelib [] tag 2026-03-04-050607-candidate from candidate-build",
        ["wikimedia+mediawiki-services-chromium-render@3c4ef40"] = "publish/production-publish: publish mediawiki-services-chromium-render [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-eventstreams@7d6ac81"] = "publish/production-publish: publish mediawiki-services-eventstreams [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-geoshapes"] = "publish/publish-publish: publish mediawiki-services-geoshapes [] tag 2026-03-04-050607-publish from publish-build",
        ["wikimedia+mediawiki-services-wikifeeds"] = "publish/production-publish: publish mediawiki-services-wikifeeds [] tag 2026-03-04-050607-production from production-build\npublish/production-promote: promote wikifeeds to [] from production-publish",
        ["wikimedia+mediawiki-services-wikispeech-mary-tts"] = "publish/production-publish: publish mediawiki-services-wikispeech-mary-tts [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-wikispeech-mishkal"] = "publish/production-publish: publish mediawiki-services-wikispeech-mishkal [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-wikispeech-wikispeech-server"] = "publish/production-publish: publish mediawiki-services-wikispeech-wikispeech-server [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+node-rdkafka-statsd"] = "publish/production-publish: publish node-rdkafka-statsd [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: .pipeline/blubber.yaml: variant \"production\" is not defined (defined: build, test); its build fails and the steps that need its image do not run",
        ["wikimedia+operations-software-bitu"] = "publish/publish-publish: publish operations-software-bitu [] tag 2026-03-04-050607-publish from publish-build\npublish note: stage `publish`: `publish.image.tags` (line 16): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+restbase"] = "publish/production-publish: publish mediawiki-services-restbase [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+wikibase-termbox"] = "rehearse/candidate-publish: publish wikibase-termbox [] tag 2026-03-04-050607-candidate from candidate-build\npublish/production-publish: publish wikibase-termbox [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 26): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+wikimedia-developer-portal"] = "publish/production-publish: publish wikimedia-developer-portal [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 25): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+wikimedia-security-security-api"] = "publish/production-publish: publish wikimedia-security-security-api [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 17): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+labs-striker@e4bce92"] = "publish/production-publish: publish labs-striker [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 23): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+mediawiki-libs-Shellbox@f6ad015"] = "publish/php-rpc83-publish: publish mediawiki-libs-shellbox [php-rpc83] tag 2026-03-04-050607-php-rpc83 from php-rpc83-build\npublish/media83-publish: publish mediawiki-libs-shellbox [media83] tag 2026-03-04-050607-media83 from media83-build\npublish/score83-publish: publish mediawiki-libs-shellbox [score83] tag 2026-03-04-050607-score83 from score83-build\npublish/syntaxhighlight83-publish: publish mediawiki-libs-shellbox [syntaxhighlight83] tag 2026-03-04-050607-syntaxhighlight83 from syntaxhighlight83-build\npublish/timeline83-publish: publish mediawiki-libs-shellbox [timeline83] tag 2026-03-04-050607-timeline83 from timeline83-build\npublish/video83-publish: publish mediawiki-libs-shellbox [video83] tag 2026-03-04-050607-video83 from video83-build",
        ["wikimedia+mediawiki-services-ipoid"] = "publish/production-publish: publish mediawiki-services-ipoid [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 17): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["wikimedia+mediawiki-services-kartotherian@304a264"] = "publish/production-publish: publish mediawiki-services-kartotherian [kartotherian] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+mediawiki-services-push-notifications@c693116"] = "publish/publish-publish: publish mediawiki-services-push-notifications [] tag 2026-03-04-050607-publish from publish-build",
        ["wikimedia+mediawiki-services-similar-users@3d524fe"] = "publish/production-publish: publish mediawiki-services-similar-users [] tag 2026-03-04-050607-production from production-build",
        ["wikimedia+wikimedia-toolhub@f1cd1c8"] = "publish/production-publish: publish wikimedia-toolhub [] tag 2026-03-04-050607-production from production-build\npublish note: stage `production`: `publish.image.tags` (line 41): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)",
        ["zotero+translation-server"] = "publish/production-publish: publish mediawiki-services-zotero [] tag 2026-03-04-050607-production from production-build",
    };

    /// <summary>
    /// Per repo with several pipelines, graphs, `directory:` or per-pipeline Blubber files: every stage of a merge run
    /// with its graph edges and steps, as <see cref="Structure"/> prints them.
    /// </summary>
    private static readonly Dictionary<string, string> StructureExpected = new()
    {
        // Each pipeline its own `directory:` and Blubber file; test-swift (`stages: []`) has no stage.
        ["wikimedia+mediawiki-libs-metrics-platform@6f4a552"] =
            "test-js/test after []\n  test-build: build test of .pipeline/blubber/js.yaml in js\n  test-run: run test-build []\ntest-java/test after []\n  test-build: build test of .pipeline/blubber/java.yaml in java\n  test-run: run test-build []\ntest-php/test after []\n  test-build: build test of .pipeline/blubber/php.yaml in php\n  test-run: run test-build []",
        ["wikimedia+integration-pipelinelib"] =
            "service1/unit after []\n  unit-build: build test of .pipeline/service1/blubber.yaml in src/service1\n  unit-run: run unit-build []\nservice1/lint after []\n  lint-build: build lint of .pipeline/service1/blubber.yaml in src/service1\n  lint-run: run lint-build []\nservice1/candidate after [unit, lint]\n  candidate-build: build production of .pipeline/service1/blubber.yaml in src/service1\n  candidate-publish: publish\nservice2/test after []\n  test-trigger: trigger totally-triggered [TRIGGER=spiders-from-2026-03-04-050607-test]\ntest-build-options/test-context-and-excludes after []\n  test-context-and-excludes-build: build service1-checkexcludes of .pipeline/blubber.yaml in src/service1 excluding [Makefile]\ntest-checkout-binding/test after []\ntest-command-output/cat after []\n  cat-build: build bash of .pipeline/blubber.yaml in .\n  cat-run: run cat-build [cat <<-end\nhey\nyou\nend] tail 1\ntest-command-output/test-it after [cat]\n  test-it-build: build bash of .pipeline/blubber.yaml in .\n  test-it-run: run test-it-build [[[ \"$1\" == you* ]], --, ${cat.output}] runtime [run.arguments[2]]\ntest-list-comprehensions/sequence after []\n  sequence-build: build sequence of .pipeline/blubber.yaml in .\n  sequence-run: run sequence-build [1, 5] tail 5\ntest-list-comprehensions/square after [sequence]\n  square-build: build arithmetic of .pipeline/blubber.yaml in .\n  square-run: run square-build [] each [number] in ${sequence.output} yield ${.number}*${.number}\ntest-copy/make-a-file after []\n  make-a-file-build: build sh-local of .pipeline/blubber.yaml in .\n  make-a-file-run: run make-a-file-build [mkdir /tmp/foo && echo hi > /tmp/foo/greeting] copy [/tmp/foo/greeting->bar/greeting]\ntest-copy/check-file-contents after [make-a-file]\n  check-file-contents-build: build sh-local of .pipeline/blubber.yaml in .\n  check-file-contents-run: run check-file-contents-build [[[ $(cat bar/greeting) == \"hi\" ]]]\ntest-copy-archive/make-a-file after []\n  make-a-file-build: build sh-local of .pipeline/blubber.yaml in .\n  make-a-file-run: run make-a-file-build [mkdir /tmp/foo && echo hi > /tmp/foo/greeting] copy [/tmp/foo/greeting->bar/greeting archived]\ntest-copy-archive-directory/make-a-file after []\n  make-a-file-build: build sh-local of .pipeline/blubber.yaml in .\n  make-a-file-run: run make-a-file-build [mkdir /tmp/foo && echo hi > /tmp/foo/greeting] copy [/tmp/foo->bar archived]\ntest-T287507/stage1 after []\n  stage1-build: build bash of .pipeline/blubber.yaml in .\n  stage1-run: run stage1-build [sleep 10]\ntest-T287507/stage2 after []\n  stage2-build: build bash of .pipeline/blubber.yaml in .\n  stage2-run: run stage2-build [sleep 10]\ntest-T287507/stage3 after []\n  stage3-build: build bash of .pipeline/blubber.yaml in .\n  stage3-run: run stage3-build [sleep 2]\ntest-T287507/stage4 after []\n  stage4-build: build bash of .pipeline/blubber.yaml in .\n  stage4-run: run stage4-build [sleep 10]",
        ["wikimedia+mediawiki-services-chromium-render@3c4ef40"] =
            "test/test after []\n  test-build: build test of .pipeline/blubber.yaml in .\n  test-run: run test-build []\npublish/test after []\n  test-build: build test of .pipeline/blubber.yaml in .\n  test-run: run test-build []\npublish/production after [test]\n  production-build: build production of .pipeline/blubber.yaml in .\n  production-publish: publish",
        ["wikimedia+mediawiki-services-eventstreams@7d6ac81"] =
            "test/test after []\n  test-build: build test of .pipeline/blubber.yaml in .\n  test-run: run test-build []\npublish/test after []\n  test-build: build test of .pipeline/blubber.yaml in .\n  test-run: run test-build []\npublish/production after [test]\n  production-build: build production of .pipeline/blubber.yaml in .\n  production-publish: publish",
    };

    // ---- tests -------------------------------------------------------------------------------------------------

    [Fact]
    public void The_corpus_holds_at_least_sixty_five_repositories_and_every_config_has_an_expectation()
    {
        Assert.True(Repos().Count() >= 65, $"only {Repos().Count()} repositories in {CorpusRoot}");
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
            Assert.Equal(BlubberRefusals.GetValueOrDefault(key, ""), BlubberOutcome(File.ReadAllText(file), repo));
        }
    }

    [Theory]
    [MemberData(nameof(DeliveryRepos))]
    public void Each_real_config_publishes_promotes_and_deploys_what_it_names_after_merge(string repo) =>
        Assert.Equal(DeliveryExpected[repo], Deliveries(repo, PlanExpected[repo].Project));

    [Theory]
    [MemberData(nameof(StructureRepos))]
    public void Each_multi_pipeline_real_config_plans_its_graph_builds_and_runs_after_merge(string repo) =>
        Assert.Equal(StructureExpected[repo], Structure(repo, PlanExpected[repo].Project));

    public static TheoryData<string> StructureRepos()
    {
        var data = new TheoryData<string>();
        foreach (var r in StructureExpected.Keys.Order(StringComparer.Ordinal)) data.Add(r);
        return data;
    }

    public static TheoryData<string> DeliveryRepos()
    {
        var data = new TheoryData<string>();
        foreach (var r in DeliveryExpected.Keys.Order(StringComparer.Ordinal)) data.Add(r);
        return data;
    }

    // ---- outcomes as comparable text -----------------------------------------------------------------------------

    /// <summary>
    /// One line per publish, promote and deploy step of a merge run's plans: what it pushes (name and the tags beyond
    /// the timestamp and SHA ones), promotes or rolls out, and from which step's image; then each plan's notes.
    /// </summary>
    private static string Deliveries(string repo, string project)
    {
        var root = Path.Combine(CorpusRoot, repo);
        var result = RunPlanner.Plan(path => RepositoryFiles.Read(root, path), new PlanningContext(TriggerKind.Merge, project, "master", Sha, Now), Options);
        var lines = new List<string>();
        foreach (var plan in result.Plans)
        {
            foreach (var step in plan.Stages.SelectMany(s => s.Steps))
            {
                var what = step switch
                {
                    { Publish: { } p } => $"publish {p.Name} [{string.Join(", ", p.Tags ?? [])}] tag {p.Tag ?? "-"} from {p.ImageFrom}",
                    { Promote: { } p } => $"promote {p.Chart} to [{string.Join(", ", p.Environments)}] from {p.ImageFrom}",
                    { Deploy: { } d } => $"deploy {d.Service} to {d.Environment} from {d.ImageFrom}",
                    _ => null,
                };
                if (what is not null) lines.Add($"{plan.Pipeline}/{step.Name}: {what}");
            }
            lines.AddRange((plan.Notes ?? []).Select(n => $"{plan.Pipeline} note: {n}"));
        }
        return string.Join("\n", lines);
    }

    /// <summary>
    /// One line per stage of a merge run's plans: its graph edges (the stages it waits for), then each step with what
    /// it builds (variant, Blubber file, context, excludes) or runs (image, arguments, env, copies, tail), and which of its
    /// fields wait for runtime outputs.
    /// </summary>
    private static string Structure(string repo, string project)
    {
        var root = Path.Combine(CorpusRoot, repo);
        var result = RunPlanner.Plan(path => RepositoryFiles.Read(root, path), new PlanningContext(TriggerKind.Merge, project, "master", Sha, Now), Options);
        var lines = new List<string>();
        foreach (var plan in result.Plans)
        {
            foreach (var stage in plan.Stages)
            {
                var after = plan.Graph.First(g => g.Stage == stage.Name).DependsOn;
                lines.Add($"{plan.Pipeline}/{stage.Name} after [{string.Join(", ", after)}]");
                foreach (var step in stage.Steps)
                {
                    var what = step switch
                    {
                        { Build: { } b } => $"build {b.Variant} of {b.Blubberfile ?? "inline"} in {b.Context ?? "."}" + (b.Excludes is { Count: > 0 } x ? $" excluding [{string.Join(", ", x)}]" : ""),
                        { Trigger: { } tr } => $"trigger {tr.Job} [{string.Join(", ", (tr.Parameters ?? new Dictionary<string, string>()).Select(kv => kv.Key + "=" + kv.Value))}]",
                        { Run: { } r } => $"run {r.ImageFrom} [{string.Join(", ", r.Arguments ?? [])}]" +
                            (r.Env is { Count: > 0 } e ? $" env [{string.Join(", ", e.Select(kv => kv.Key + "=" + kv.Value))}]" : "") +
                            (r.Copy is { Count: > 0 } c ? $" copy [{string.Join(", ", c.Select(cp => $"{cp.Source}->{cp.Destination}{(cp.Archive ? " archived" : "")}"))}]" : "") +
                            (r.Tail is { } t ? $" tail {t}" : "") +
                            (r.ArgumentsEach is { } each ? $" each [{string.Join(", ", each.Each)}] in {Template(each.In)} yield {Template(each.Yield)}" : ""),
                        _ => step.Kind.ToString().ToLowerInvariant(),
                    };
                    var runtime = step.Runtime is { Count: > 0 } rt ? $" runtime [{string.Join(", ", rt.Keys.Order(StringComparer.Ordinal))}]" : "";
                    lines.Add($"  {step.Name}: {what}{runtime}");
                }
            }
        }
        return string.Join("\n", lines);
    }

    /// <summary>A runtime template as written: outputs as <c>${stage.name}</c>, comprehension variables as <c>${.name}</c>.</summary>
    private static string Template(RuntimeTemplate t) => string.Concat(t.Parts.Select(p =>
        p.Output is { } o ? $"${{{o.Stage}.{o.Name}}}" : p.Local is { } l ? $"${{.{l}}}" : p.Text));

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
    private static string BlubberOutcome(string yaml, string repo)
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
                // As the builder compiles it: caches scoped to the project (here the corpus folder's name), and a context
                // listing (the repository's own tree is not in the corpus) so `exclude` on local copies can be expanded.
                Blubber.Compile(yaml, variant, options: new CompileOptions { CacheScope = "corpus/" + repo.Replace('+', '/').Replace('@', '-'), ContextFiles = [".pipeline/blubber.yaml"] });
            }
            catch (BlubberException e)
            {
                lines.Add($"{variant}: {e.Message}");
            }
        }
        return string.Join("\n", lines);
    }
}
