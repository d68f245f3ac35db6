using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Deployer;
using Slipway.Deployer.ChartsChange;
using Slipway.Deployer.Backends.Docker;
using Slipway.Deployer.Config;
using Slipway.Deployer.Rollout;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// A run that publishes two images (a multi-service repository): the deploy step rolls out the one its plan names
/// (<see cref="DeployParams.ImageFrom"/>, PipelineLib's <c>${&lt;stage&gt;.imageName}</c>), not the run's last, and a promote
/// step records the one its plan names (<see cref="PromoteParams.ImageFrom"/>); a plan that names none (events from before
/// the field) keeps the last. Real Postgres, real git, real Docker, real registry.
/// </summary>
public sealed class NamedImageDeployTests(DeployerImagesFixture images) : IClassFixture<DeployerImagesFixture>, IAsyncLifetime
{
    private const string Service = "hello";
    private readonly string _environment = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly SchemaName _schema = new(TestInfrastructure.UniqueName("named_deploys_"));
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-named-image-deploys-").FullName;
    private NpgsqlDataSource _dataSource = null!;
    private DockerBackend _backend = null!;
    private DeployStepPerformer _performer = null!;
    private PromoteStepPerformer _promoter = null!;

    public async Task InitializeAsync()
    {
        await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, _schema,
            [typeof(DeploymentLedger).Assembly], NullLogger.Instance);
        _dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        var config = new ConfigRegistry(new ConfigRegistryOptions
        {
            RepositoryUrl = Path.Combine(_root, "registry.git"), WorkDir = Path.Combine(_root, "work"), CreateIfMissing = true,
        }, NullLogger<ConfigRegistry>.Instance);
        _backend = new DockerBackend(images.DockerOptions, new DockerBackendOptions { StopTimeout = TimeSpan.FromSeconds(3) }, images.Registry,
            NullLogger<DockerBackend>.Instance);
        var options = Options.Create(new DeployerOptions
        {
            Environments = new() { [_environment] = new EnvironmentOptions { Replicas = 1, TimeoutSeconds = 60, RequiresApproval = false } },
        });
        _performer = new DeployStepPerformer(config, _backend, new DeploymentLedger(_dataSource, _schema),
            new RolloutGate(_dataSource, _schema, NullLogger<RolloutGate>.Instance), options,
            Options.Create(new ServiceOwnersOptions()), TimeProvider.System, NullLogger<DeployStepPerformer>.Instance);
        _promoter = new PromoteStepPerformer(config, new RolloutGate(_dataSource, _schema, NullLogger<RolloutGate>.Instance), options,
            Options.Create(new ServiceOwnersOptions()), new ChartsChangeProposer(new ChartsChangeOptions(), NullLogger<ChartsChangeProposer>.Instance),
            NullLogger<PromoteStepPerformer>.Instance);
    }

    [Fact]
    public async Task The_deploy_rolls_out_the_image_of_the_publish_step_its_plan_names_not_the_last_published()
    {
        var deployed = await DeployAsync(Run("run-named", imageFrom: "api-publish"));

        Assert.Equal(images.V1, $"{deployed.Image.Uri}@{deployed.Image.Digest}");
        Assert.Equal(["20261127-000000-api"], deployed.Image.Tags);
        Assert.Equal(images.V1, ServiceValuesYaml.Deserialize(Bare("show", $"main:environments/{_environment}/{Service}.yaml"), "values").Image);
        Assert.Equal([images.V1], await RunningImagesAsync());
    }

    [Fact]
    public async Task A_plan_that_names_no_publish_step_keeps_rolling_out_the_last_published_image()
    {
        var deployed = await DeployAsync(Run("run-unnamed", imageFrom: null));

        Assert.Equal(images.V2, $"{deployed.Image.Uri}@{deployed.Image.Digest}");
        Assert.Equal(images.V2, ServiceValuesYaml.Deserialize(Bare("show", $"main:environments/{_environment}/{Service}.yaml"), "values").Image);
        Assert.Equal([images.V2], await RunningImagesAsync());
    }

    [Fact]
    public async Task The_promote_records_the_image_of_the_publish_step_its_plan_names_not_the_last_published()
    {
        var run = Run("run-promote", imageFrom: null, promoteFrom: "api-publish");
        var (stage, step) = run.Progress.Find("api-promote")!.Value;
        var execution = new StepExecution(run, stage, step, 1, DateTimeOffset.UtcNow, TimeProvider.System, (_, _) => Task.CompletedTask);
        var result = Assert.IsType<StepResult.Finished>(await _promoter.PerformAsync(execution, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.True(result.Outcome == StepOutcome.Succeeded, result.Reason);

        var promoted = Assert.IsType<PromoteSucceeded>(result.FinishingEvent);
        Assert.Equal(images.V1, $"{promoted.Image.Uri}@{promoted.Image.Digest}");
        Assert.Equal(images.V1, ServiceValuesYaml.Deserialize(Bare("show", $"main:environments/{_environment}/{Service}.yaml"), "values").Image);
    }

    private async Task<DeploySucceeded> DeployAsync(RunState run)
    {
        var (stage, step) = run.Progress.Find("rollout-deploy")!.Value;
        var execution = new StepExecution(run, stage, step, 1, DateTimeOffset.UtcNow, TimeProvider.System, (_, _) => Task.CompletedTask);
        var result = Assert.IsType<StepResult.Finished>(await _performer.PerformAsync(execution, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.True(result.Outcome == StepOutcome.Succeeded, result.Reason);
        var deployed = Assert.IsType<DeploySucceeded>(result.FinishingEvent);
        Assert.Null(deployed.SupersededBy);
        return deployed;
    }

    /// <summary>Stage <c>api</c> published v1 (and promotes), then stage <c>worker</c> published v2; stage <c>rollout</c> deploys.</summary>
    private RunState Run(string runId, string? imageFrom, string? promoteFrom = null)
    {
        var startedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var started = new RunStarted
        {
            Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "demo/hello", Branch = "main", Change = 1, Patchset = 1,
                Ref = "refs/heads/main", Revision = new string('a', 40) },
            Plan = new RunPlan
            {
                Pipeline = "services",
                Stages =
                [
                    new PlanStage { Name = "api", Steps = [
                        new PlanStep { Name = "api-publish", Kind = StepKind.Publish },
                        new PlanStep { Name = "api-promote", Kind = StepKind.Promote,
                            Promote = new PromoteParams { Chart = Service, Environments = [_environment], ImageFrom = promoteFrom } }] },
                    new PlanStage { Name = "worker", Steps = [new PlanStep { Name = "worker-publish", Kind = StepKind.Publish }] },
                    new PlanStage { Name = "rollout", Steps = [
                        // The probe images answer /readyz, not the default /_info; a deploy takes its health path from the smoke test.
                        new PlanStep { Name = "rollout-smoke", Kind = StepKind.Smoke, Smoke = new SmokeParams { Port = 8080, HealthPath = "/readyz" } },
                        new PlanStep { Name = "rollout-deploy", Kind = StepKind.Deploy,
                            Deploy = new DeployParams { Environment = _environment, ImageFrom = imageFrom } }] },
                ],
                Graph =
                [
                    new PlanGraphNode { Stage = "api", DependsOn = [] },
                    new PlanGraphNode { Stage = "worker", DependsOn = ["api"] },
                    new PlanGraphNode { Stage = "rollout", DependsOn = ["worker"] },
                ],
            },
            StartedAt = startedAt,
        };
        var steps = new Dictionary<string, StepRecord>
        {
            ["api-publish"] = Published("api", "api-publish", images.V1, startedAt),
            ["worker-publish"] = Published("worker", "worker-publish", images.V2, startedAt),
        };
        return new RunState(runId, started, steps, new Dictionary<string, string>(), null);
    }

    private static StepRecord Published(string stage, string step, string imageByDigest, DateTimeOffset at)
    {
        var digestAt = imageByDigest.LastIndexOf('@');
        var published = new PublishSucceeded
        {
            Stage = stage, Step = step, Attempt = 1, StartedAt = at, FinishedAt = at, DurationMs = 0,
            ImageId = "sha256:" + new string('e', 64),
            Image = new ContainerImage { Uri = imageByDigest[..digestAt], Tags = [$"20261127-000000-{stage}"], Digest = imageByDigest[(digestAt + 1)..] },
        };
        return new StepRecord(StepOutcome.Succeeded, 1, 0, JsonSerializer.SerializeToElement(published, ContractJson.Options));
    }

    private Task<List<string>> RunningImagesAsync() => EnvironmentContainers.RunningImagesAsync(images.Docker, _environment);

    private string Bare(params string[] args) => EnvironmentContainers.Bare(_root, args);

    public async Task DisposeAsync()
    {
        await EnvironmentContainers.RemoveAllAsync(images.Docker, _environment);
        _backend?.Dispose();
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        await using (var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        }
        Directory.Delete(_root, recursive: true);
    }
}
