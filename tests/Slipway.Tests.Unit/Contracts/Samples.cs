using System.Text.Json;
using Slipway.Contracts;

namespace Slipway.Tests.Unit.Contracts;

/// <summary>
/// One realistic sample of every event type, in one place. The schema tests fail for a registered
/// type that has no sample here: add one when you add a type.
/// </summary>
public static class Samples
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 14, 9, 26, 53, TimeSpan.Zero);
    public const string Project = "mediawiki/services/citoid";
    public const string Revision = "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a";
    public const string ChangeId = "I8b1f0c3e2d4a6b8c0e2f4a6b8d0c2e4f6a8b0c2d";
    public const string ImageId = "sha256:9c4e1b7a2f5d8c3e6a9b2d5f8c1e4a7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a5c";
    public const string Digest = "sha256:4d7a0c3f6b9e2d5a8c1f4b7e0a3d6c9f2b5e8a1d4c7f0b3e6a9d2c5f8b1e4a7d";
    public const string OldDigest = "sha256:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
    public const string RunId = "0f9d8c7b-6a5e-5d4c-8b3a-291807f6e5d4";
    public const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    public static readonly Account Alice = new() { Name = "Alice Example", Email = "alice@example.org", Username = "alice" };

    public static readonly ContainerImage Published = new()
    {
        Uri = "registry.example.org/wikimedia/mediawiki-services-citoid",
        Tags = ["2025-03-14-092653-production", Revision],
        Digest = Digest,
    };

    private static readonly Dictionary<Type, Func<object>> ByType = new()
    {
        [typeof(GerritEvent)] = () => PatchsetCreated(),
        [typeof(RunStarted)] = () => new RunStarted
        {
            Trigger = new RunTrigger
            {
                Kind = TriggerKind.Merge, Project = Project, Branch = "master", Change = 1234, ChangeId = ChangeId,
                Patchset = 2, Ref = "refs/heads/master", Revision = Revision, GerritEventId = "3c5e0f41-7c1b-5f0e-9a2d-6b4c8e1f3a57",
                RequestedBy = Alice,
            },
            Plan = CanonicalPlan(),
            StartedAt = T0,
        },
        [typeof(RunFinished)] = () => new RunFinished
        {
            Outcome = RunOutcome.Succeeded,
            Steps =
            [
                new StepSummary { Stage = "test", Name = "test-build", Kind = StepKind.Build, Outcome = StepOutcome.Succeeded, DurationMs = 64_210, Attempts = 1 },
                new StepSummary { Stage = "test", Name = "test-run", Kind = StepKind.Test, Outcome = StepOutcome.Succeeded, DurationMs = 31_877, Attempts = 1 },
                new StepSummary { Stage = "production", Name = "production-build", Kind = StepKind.Build, Outcome = StepOutcome.Succeeded, DurationMs = 48_002, Attempts = 2 },
                new StepSummary { Stage = "production", Name = "production-smoke", Kind = StepKind.Smoke, Outcome = StepOutcome.Succeeded, DurationMs = 12_450, Attempts = 1 },
                new StepSummary { Stage = "production", Name = "production-publish", Kind = StepKind.Publish, Outcome = StepOutcome.Succeeded, DurationMs = 9_310, Attempts = 1 },
                new StepSummary { Stage = "production", Name = "deploy-staging", Kind = StepKind.Deploy, Outcome = StepOutcome.Succeeded, DurationMs = 40_000, Attempts = 1 },
                new StepSummary { Stage = "production", Name = "deploy-production", Kind = StepKind.Deploy, Outcome = StepOutcome.Skipped },
            ],
            Image = Published,
            Images = [new PublishedImage { Stage = "production", Step = "production-publish", Image = Published }],
            StartedAt = T0,
            FinishedAt = T0.AddMinutes(4),
            DurationMs = 240_000,
        },
        [typeof(BuildStarted)] = () => new BuildStarted
        {
            Stage = "test", Step = "test-build", Attempt = 1, StartedAt = T0, Variant = "test", Project = Project, Revision = Revision,
        },
        [typeof(BuildSucceeded)] = () => new BuildSucceeded
        {
            Stage = "test", Step = "test-build", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(64), DurationMs = 64_210,
            Variant = "test", Project = Project, Revision = Revision, ImageId = ImageId,
            ImageRef = "localhost/slipway/mediawiki-services-citoid:0f9d8c7b-test", SizeBytes = 412_334_080,
        },
        [typeof(BuildFailed)] = () => new BuildFailed
        {
            Stage = "test", Step = "test-build", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(12), DurationMs = 12_004,
            Variant = "test", Project = Project, Revision = Revision,
            Reason = "base image docker.io/library/node:20 is not from an allowed registry",
            OutputTail = "#1 [internal] load build definition from blubber.yaml\nerror: base image not allowed by policy",
        },
        [typeof(TestStarted)] = () => new TestStarted
        {
            Stage = "test", Step = "test-run", Attempt = 1, StartedAt = T0, ImageId = ImageId,
            ImageRef = "localhost/slipway/mediawiki-services-citoid:0f9d8c7b-test",
        },
        [typeof(TestSucceeded)] = () => new TestSucceeded
        {
            Stage = "test", Step = "test-run", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(31), DurationMs = 31_877,
            ImageId = ImageId, ExitCode = 0, OutputTail = "  142 passing (4s)\n",
        },
        [typeof(TestFailed)] = () => new TestFailed
        {
            Stage = "test", Step = "test-run", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(29), DurationMs = 29_115,
            ImageId = ImageId, ExitCode = 1, TimedOut = false, Reason = "tests exited with code 1",
            OutputTail = "  141 passing (4s)\n  1 failing\n\n  1) zotero: returns 404 for unknown DOI\n     AssertionError: expected 500 to equal 404",
        },
        [typeof(SmokeTestStarted)] = () => new SmokeTestStarted
        {
            Stage = "production", Step = "production-smoke", Attempt = 1, StartedAt = T0, ImageId = ImageId,
        },
        [typeof(SmokeTestSucceeded)] = () => new SmokeTestSucceeded
        {
            Stage = "production", Step = "production-smoke", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(12), DurationMs = 12_450,
            ImageId = ImageId, ChecksPassed = 3, ChecksFailed = 0,
            Checks =
            [
                new SmokeCheck { Name = "readiness", Passed = true, DurationMs = 2_100 },
                new SmokeCheck { Name = "GET /_info: service info", Passed = true, DurationMs = 8 },
                new SmokeCheck { Name = "GET /api?search=10.1000/1: DOI lookup", Passed = true, DurationMs = 120 },
            ],
        },
        [typeof(SmokeTestFailed)] = () => new SmokeTestFailed
        {
            Stage = "production", Step = "production-smoke", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(15), DurationMs = 15_020,
            ImageId = ImageId, ChecksPassed = 1, ChecksFailed = 1,
            Checks =
            [
                new SmokeCheck { Name = "GET /api?search=10.1000/1: DOI lookup", Passed = false, Detail = "expected status 200, got 500", DurationMs = 98 },
                new SmokeCheck { Name = "readiness", Passed = true, DurationMs = 2_300 },
            ],
            Reason = "1 of 2 smoke checks failed: GET /api?search=10.1000/1: DOI lookup",
            OutputTail = "TypeError: Cannot read properties of undefined (reading 'doi')\n    at lookup (/srv/service/lib/api.js:42:17)",
        },
        [typeof(PublishStarted)] = () => new PublishStarted
        {
            Stage = "production", Step = "production-publish", Attempt = 1, StartedAt = T0, ImageId = ImageId,
            Uri = Published.Uri, Tags = Published.Tags,
        },
        [typeof(PublishSucceeded)] = () => new PublishSucceeded
        {
            Stage = "production", Step = "production-publish", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(9), DurationMs = 9_310,
            ImageId = ImageId, Image = Published,
        },
        [typeof(PublishFailed)] = () => new PublishFailed
        {
            Stage = "production", Step = "production-publish", Attempt = 3, StartedAt = T0, FinishedAt = T0.AddSeconds(30), DurationMs = 30_001,
            ImageId = ImageId, Uri = Published.Uri, Reason = "registry.example.org: 401 Unauthorized",
        },
        [typeof(DeployStarted)] = () => new DeployStarted
        {
            Stage = "production", Step = "deploy-production", Attempt = 1, StartedAt = T0, Environment = "production",
            Service = "citoid", RolloutStage = RolloutStage.Canary, Percentage = 10, Image = Published,
        },
        [typeof(DeploySucceeded)] = () => new DeploySucceeded
        {
            Stage = "production", Step = "deploy-production", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(40), DurationMs = 40_000,
            Environment = "production", Service = "citoid", RolloutStage = RolloutStage.Full, Percentage = 100, Image = Published,
            ConfigRevision = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        },
        [typeof(DeployFailed)] = () => new DeployFailed
        {
            Stage = "production", Step = "deploy-production", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(95), DurationMs = 95_400,
            Environment = "production", Service = "citoid", RolloutStage = RolloutStage.Partial, Percentage = 50, Image = Published,
            RolledBack = true, Reason = "readiness probe failed on 2 of 4 new instances for 60s",
        },
        [typeof(PromoteStarted)] = () => new PromoteStarted
        {
            Stage = "production", Step = "production-promote", Attempt = 1, StartedAt = T0, Chart = "citoid", Environments = ["staging", "codfw"],
        },
        [typeof(PromoteSucceeded)] = () => new PromoteSucceeded
        {
            Stage = "production", Step = "production-promote", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(2), DurationMs = 2_100,
            Chart = "citoid", Image = Published,
            ConfigRevisions = new Dictionary<string, string> { ["staging"] = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" },
        },
        [typeof(PromoteFailed)] = () => new PromoteFailed
        {
            Stage = "production", Step = "production-promote", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(1), DurationMs = 900,
            Chart = "citoid", Reason = "no image was published before this step",
        },
        [typeof(PromoteChangeOpened)] = () => new PromoteChangeOpened
        {
            Stage = "production", Step = "production-promote", Chart = "citoid", Version = "2025-03-14-092653-production",
            Project = "operations/deployment-charts", Branch = "master", Change = 1234, ChangeId = "I" + new string('a', 40),
            Url = "https://gerrit.example.org/r/c/operations/deployment-charts/+/1234", Files = ["helmfile.d/services/citoid/values.yaml"],
        },
        [typeof(TriggerRequested)] = () => new TriggerRequested
        {
            Stage = "production", Step = "production-trigger", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(1), DurationMs = 300,
            Job = "citoid-deploy-docs", Parameters = new Dictionary<string, string> { ["VERSION"] = "2025-03-14-092653-production" },
            Project = "mediawiki/services/citoid", Revision = Revision, WebhookStatus = 202,
        },
        [typeof(TriggerFailed)] = () => new TriggerFailed
        {
            Stage = "production", Step = "production-trigger", Attempt = 1, StartedAt = T0, FinishedAt = T0.AddSeconds(1), DurationMs = 300,
            Job = "citoid-deploy-docs", Reason = "Invalid trigger job 'citoid-deploy-docs'. Allowed trigger jobs: []",
        },
        [typeof(NotifyRequested)] = () => new NotifyRequested
        {
            Pipeline = "service", Project = "mediawiki/services/citoid", Stage = "test", Step = "test-run", Reason = "tests exited with code 1",
            To = ["citoid-team@example.org"], Subject = "[Pipeline] citoid service/test failed",
            Body = "Pipeline service for project mediawiki/services/citoid failed during\nstage test. See the log for details: ",
        },
        [typeof(ApprovalRequested)] = () => new ApprovalRequested
        {
            RunId = RunId, Environment = "production", Service = "citoid", Stage = "production", Step = "deploy-production",
            Image = Published, RequestedAt = T0,
        },
        [typeof(ApprovalGranted)] = () => new ApprovalGranted
        {
            RunId = RunId, Environment = "production", Approver = Alice, Via = ApprovalChannel.GerritComment, GrantedAt = T0,
            Comment = "approve production",
        },
        [typeof(ApprovalRefused)] = () => new ApprovalRefused
        {
            RunId = RunId, Environment = "production", Approver = new Account { Username = "bob" }, Via = ApprovalChannel.Cli,
            RefusedAt = T0, Reason = "deploy freeze until Monday",
        },
        [typeof(RollbackPerformed)] = () => new RollbackPerformed
        {
            Environment = "production", Service = "citoid", Uri = Published.Uri, FromDigest = Digest, ToDigest = OldDigest,
            Reason = RollbackReason.Automatic, Detail = "readiness probe failed on 2 of 4 new instances for 60s", PerformedAt = T0,
            ConfigRevision = "b2c3d4e5f60718293a4b5c6d7e8f901234567890",
        },
    };

    /// <summary>The types that have a sample.</summary>
    public static IEnumerable<Type> Types => ByType.Keys;

    /// <summary>A fresh sample of the given event record type; throws when none is defined.</summary>
    public static object For(Type type) => ByType.TryGetValue(type, out var make)
        ? make()
        : throw new KeyNotFoundException($"no sample for {type.Name}: add one to {nameof(Samples)}.cs");

    /// <summary>A sample wrapped in an envelope the way services produce it.</summary>
    public static EventEnvelope Envelope(object data)
    {
        var runScoped = EventTypes.IsRunScoped(EventTypes.NameOf(data.GetType()));
        return EventEnvelope.Create(data, source: "/slipway/test", subject: "citoid~1234",
            runId: runScoped ? RunId : null, id: "4e1c7d52-9a3b-4f6e-8d2c-1b0a9f8e7d6c", time: T0, traceParent: TraceParent);
    }

    public static GerritEvent PatchsetCreated()
    {
        var uploader = new Account { Name = "Alice Example", Email = "alice@example.org", Username = "alice" };
        var raw = JsonSerializer.SerializeToElement(new
        {
            uploader,
            patchSet = new
            {
                number = 2, revision = Revision, parents = new[] { "0123456789abcdef0123456789abcdef01234567" },
                @ref = "refs/changes/34/1234/2", uploader, createdOn = 1741944413, author = uploader, kind = "REWORK",
                sizeInsertions = 9, sizeDeletions = 0,
            },
            change = new
            {
                project = Project, branch = "master", id = ChangeId, number = 1234, subject = "Handle unknown DOIs",
                owner = uploader, url = "https://gerrit.example.org/c/mediawiki/services/citoid/+/1234", status = "NEW",
            },
            project = Project,
            refName = "refs/heads/master",
            changeKey = new { id = ChangeId },
            type = "patchset-created",
            eventCreatedOn = 1741944413,
        }, ContractJson.Options);
        return new GerritEvent
        {
            Type = "patchset-created",
            Project = Project,
            Branch = "master",
            ChangeNumber = 1234,
            ChangeId = ChangeId,
            PatchSetNumber = 2,
            Revision = Revision,
            Ref = "refs/changes/34/1234/2",
            Subject = "Handle unknown DOIs",
            ChangeUrl = "https://gerrit.example.org/c/mediawiki/services/citoid/+/1234",
            Author = uploader,
            Uploader = uploader,
            EventCreatedOn = DateTimeOffset.FromUnixTimeSeconds(1741944413),
            CaughtUp = false,
            Source = GerritEventSource.Stream,
            Raw = raw,
        };
    }

    /// <summary>The plan of the canonical flow (only .pipeline/blubber.yaml) for a merge.</summary>
    public static RunPlan CanonicalPlan() => new()
    {
        Pipeline = "default",
        ConfigPath = ".pipeline/blubber.yaml",
        Stages =
        [
            new PlanStage
            {
                Name = "test",
                Steps =
                [
                    new PlanStep { Name = "test-build", Kind = StepKind.Build, Build = new BuildParams { Variant = "test" } },
                    new PlanStep { Name = "test-run", Kind = StepKind.Test, Run = new RunParams { ImageFrom = "test-build", Tail = 50, Env = new Dictionary<string, string> { ["CI"] = "1" } } },
                ],
            },
            new PlanStage
            {
                Name = "production",
                Steps =
                [
                    new PlanStep { Name = "production-build", Kind = StepKind.Build, Build = new BuildParams { Variant = "production", Blubberfile = ".pipeline/blubber.yaml", Context = "." } },
                    new PlanStep { Name = "production-smoke", Kind = StepKind.Smoke, Smoke = new SmokeParams { ImageFrom = "production-build", Port = 1970, SpecPath = "/?spec", HealthPath = "/_info" } },
                    new PlanStep { Name = "production-publish", Kind = StepKind.Publish, Publish = new PublishParams { ImageFrom = "production-build" } },
                    new PlanStep { Name = "deploy-staging", Kind = StepKind.Deploy, Deploy = new DeployParams { Environment = "staging", Service = "citoid" } },
                    new PlanStep
                    {
                        Name = "deploy-production", Kind = StepKind.Deploy,
                        Deploy = new DeployParams
                        {
                            Environment = "production", Service = "citoid", RequiresApproval = true,
                            Rollout =
                            [
                                new RolloutPhase { Stage = RolloutStage.Canary, Percentage = 10 },
                                new RolloutPhase { Stage = RolloutStage.Partial, Percentage = 50 },
                                new RolloutPhase { Stage = RolloutStage.Full, Percentage = 100 },
                            ],
                        },
                    },
                ],
            },
        ],
        Graph =
        [
            new PlanGraphNode { Stage = "test", DependsOn = [] },
            new PlanGraphNode { Stage = "production", DependsOn = ["test"] },
        ],
    };
}
