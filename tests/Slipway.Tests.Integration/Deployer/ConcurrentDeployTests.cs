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
using Slipway.Deployer.Backends.Docker;
using Slipway.Deployer.Config;
using Slipway.Deployer.Rollout;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// Two deployer instances (each its own clone of the configuration registry, its own Docker backend and Postgres data source, one
/// shared schema and bare repository) deploy two runs of one service to one environment: real Postgres, real git, real Docker.
/// </summary>
public sealed class ConcurrentDeployTests(DeployerImagesFixture images) : IClassFixture<DeployerImagesFixture>, IAsyncLifetime
{
    private const string Service = "hello";
    private readonly string _environment = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly SchemaName _schema = new(TestInfrastructure.UniqueName("deploys_"));
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-concurrent-deploys-").FullName;
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<DockerBackend> _backends = [];

    private sealed record Instance(DeployStepPerformer Performer, RolloutGate Gate, DockerBackend Backend);

    public async Task InitializeAsync() =>
        await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, _schema,
            [typeof(DeploymentLedger).Assembly], NullLogger.Instance);

    private Instance StartInstance(string name)
    {
        var dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        _disposables.Add(dataSource);
        var config = new ConfigRegistry(new ConfigRegistryOptions
        {
            RepositoryUrl = Path.Combine(_root, "registry.git"), WorkDir = Path.Combine(_root, name), CreateIfMissing = true,
        }, NullLogger<ConfigRegistry>.Instance);
        var backend = new DockerBackend(images.DockerOptions, new DockerBackendOptions { StopTimeout = TimeSpan.FromSeconds(3) }, images.Registry,
            NullLogger<DockerBackend>.Instance);
        _backends.Add(backend);
        var gate = new RolloutGate(dataSource, _schema, NullLogger<RolloutGate>.Instance);
        var options = Options.Create(new DeployerOptions
        {
            Environments = new() { [_environment] = new EnvironmentOptions { Replicas = 2, TimeoutSeconds = 60, RequiresApproval = false } },
        });
        var performer = new DeployStepPerformer(config, backend, new DeploymentLedger(dataSource, _schema), gate, options,
            Options.Create(new ServiceOwnersOptions()), TimeProvider.System, NullLogger<DeployStepPerformer>.Instance);
        return new Instance(performer, gate, backend);
    }

    [Fact]
    public async Task Rollouts_take_turns_across_instances_and_an_older_run_released_after_a_newer_one_is_superseded_not_rolled_out()
    {
        var one = StartInstance("one");
        var two = StartInstance("two");
        var older = Run("run-older", images.V1, DateTimeOffset.UtcNow.AddMinutes(-10));
        var newer = Run("run-newer", images.V2, DateTimeOffset.UtcNow.AddMinutes(-5));

        // Instance one is in the middle of a rollout of the service: the newer run's deploy on instance two waits for its turn.
        var busy = await one.Gate.WaitForTurnAsync(_environment, Service, CancellationToken.None);
        var newerEvents = new List<IPipelineEvent>();
        var newerDeploy = two.Performer.PerformAsync(Execution(newer, newerEvents), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(newerDeploy.IsCompleted);
        Assert.Empty(RunCommits("run-newer"));
        Assert.Empty(newerEvents);
        await busy.DisposeAsync();

        var newerResult = Assert.IsType<StepResult.Finished>(await newerDeploy.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.True(newerResult.Outcome == StepOutcome.Succeeded, newerResult.Reason);
        var deployed = Assert.IsType<DeploySucceeded>(newerResult.FinishingEvent);
        Assert.Null(deployed.SupersededBy);
        Assert.Equal(Assert.Single(RunCommits("run-newer")), deployed.ConfigRevision);

        // The older run's deploy is released only now (its approval came late, or its instance was slow): it must not overwrite.
        var olderEvents = new List<IPipelineEvent>();
        var olderResult = Assert.IsType<StepResult.Finished>(
            await one.Performer.PerformAsync(Execution(older, olderEvents), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.True(olderResult.Outcome == StepOutcome.Succeeded, olderResult.Reason);
        var superseded = Assert.IsType<DeploySucceeded>(olderResult.FinishingEvent);
        Assert.Equal("run-newer", superseded.SupersededBy);
        Assert.Null(superseded.ConfigRevision);
        Assert.StartsWith($"not rolled out: run run-newer, triggered later (", superseded.SkipReason);
        Assert.EndsWith($"already deployed {Service} to {_environment}; this run's older image would have overwritten it", superseded.SkipReason);
        Assert.Equal(RolloutStage.Full, superseded.RolloutStage); // the plan's last stage: the step is done
        Assert.Empty(olderEvents); // no deploy.started: nothing was rolled out

        // A retry of the older run's step (a redelivery) is superseded again.
        var retried = Assert.IsType<StepResult.Finished>(await two.Performer.PerformAsync(Execution(older, [], attempt: 2), CancellationToken.None));
        Assert.Equal("run-newer", Assert.IsType<DeploySucceeded>(retried.FinishingEvent).SupersededBy);

        // The registry and the running containers end with the newer image; one commit for the run that deployed, none for the other.
        Assert.Equal(images.V2, ServiceValuesYaml.Deserialize(Bare("show", $"main:environments/{_environment}/{Service}.yaml"), "values").Image);
        Assert.Single(RunCommits("run-newer"));
        Assert.Empty(RunCommits("run-older"));
        var running = await two.Backend.StatusAsync(_environment, Service, CancellationToken.None);
        Assert.Equal(2, running.Count);
        Assert.All(running, i => Assert.Equal(images.V2, i.Image));
        Assert.Equal([images.V2, images.V2], await RunningImagesAsync());
    }

    [Fact]
    public async Task Two_instances_deploying_two_runs_at_once_end_with_the_newer_image_and_one_commit_per_run_that_deployed()
    {
        var one = StartInstance("one");
        var two = StartInstance("two");
        var older = Run("run-older", images.V1, DateTimeOffset.UtcNow.AddMinutes(-10));
        var newer = Run("run-newer", images.V2, DateTimeOffset.UtcNow.AddMinutes(-5));

        var results = await Task.WhenAll(
            one.Performer.PerformAsync(Execution(older, []), CancellationToken.None),
            two.Performer.PerformAsync(Execution(newer, []), CancellationToken.None)).WaitAsync(TimeSpan.FromMinutes(3));

        var finished = results.Select(r => Assert.IsType<StepResult.Finished>(r)).ToList();
        Assert.All(finished, f => Assert.True(f.Outcome == StepOutcome.Succeeded, f.Reason));
        var olderDeploy = Assert.IsType<DeploySucceeded>(finished[0].FinishingEvent);
        var newerDeploy = Assert.IsType<DeploySucceeded>(finished[1].FinishingEvent);
        Assert.Null(newerDeploy.SupersededBy);
        Assert.Single(RunCommits("run-newer"));
        // Whichever got its turn first: the older one deployed before (one commit, older in history) or was superseded (none).
        var olderCommits = RunCommits("run-older");
        if (olderDeploy.SupersededBy is null)
        {
            Assert.Single(olderCommits);
            Assert.Equal([newerDeploy.ConfigRevision!, olderCommits[0]], Bare("rev-list", "main").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        else Assert.Empty(olderCommits);
        Assert.Equal(images.V2, ServiceValuesYaml.Deserialize(Bare("show", $"main:environments/{_environment}/{Service}.yaml"), "values").Image);
        Assert.Equal([images.V2, images.V2], await RunningImagesAsync());
    }

    private StepExecution Execution(RunState run, List<IPipelineEvent> emitted, int attempt = 1)
    {
        var (stage, step) = run.Progress.Find("deploy")!.Value;
        return new StepExecution(run, stage, step, attempt, DateTimeOffset.UtcNow, TimeProvider.System, (data, _) =>
        {
            lock (emitted) emitted.Add(data);
            return Task.CompletedTask;
        });
    }

    private RunState Run(string runId, string imageByDigest, DateTimeOffset startedAt)
    {
        var at = imageByDigest.LastIndexOf('@');
        var published = new PublishSucceeded
        {
            Stage = "production", Step = "publish", Attempt = 1, StartedAt = startedAt, FinishedAt = startedAt, DurationMs = 0,
            ImageId = "sha256:" + new string('e', 64),
            Image = new ContainerImage { Uri = imageByDigest[..at], Tags = ["20261127-000000-production"], Digest = imageByDigest[(at + 1)..] },
        };
        var started = new RunStarted
        {
            Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "demo/hello", Branch = "main", Change = 1, Patchset = 1,
                Ref = "refs/heads/main", Revision = new string('a', 40) },
            Plan = new RunPlan
            {
                Pipeline = "service",
                Stages =
                [
                    new PlanStage { Name = "production", Steps = [
                        // The probe images answer /readyz, not the default /_info; a deploy takes its health path from the smoke test.
                        new PlanStep { Name = "smoke", Kind = StepKind.Smoke, Smoke = new SmokeParams { Port = 8080, HealthPath = "/readyz" } },
                        new PlanStep { Name = "publish", Kind = StepKind.Publish },
                        new PlanStep { Name = "deploy", Kind = StepKind.Deploy, Deploy = new DeployParams { Environment = _environment } } ] },
                ],
                Graph = [new PlanGraphNode { Stage = "production", DependsOn = [] }],
            },
            StartedAt = startedAt,
        };
        var steps = new Dictionary<string, StepRecord>
        {
            ["publish"] = new(StepOutcome.Succeeded, 1, 0, JsonSerializer.SerializeToElement(published, ContractJson.Options)),
        };
        return new RunState(runId, started, steps, new Dictionary<string, string>(), null);
    }

    /// <summary>The configuration registry's commits recording the run (reverts included), newest first.</summary>
    private List<string> RunCommits(string runId) =>
        !File.Exists(Path.Combine(_root, "registry.git", "HEAD")) || Bare("rev-parse", "-q", "--verify", "main") is { Length: 0 }
            ? []
            : Bare("log", "--format=%H", "--grep", $"^Slipway-Run: {runId}$", "main").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    private Task<List<string>> RunningImagesAsync() => EnvironmentContainers.RunningImagesAsync(images.Docker, _environment);

    private string Bare(params string[] args) => EnvironmentContainers.Bare(_root, args);

    public async Task DisposeAsync()
    {
        await EnvironmentContainers.RemoveAllAsync(images.Docker, _environment);
        foreach (var b in _backends) b.Dispose();
        foreach (var d in _disposables) await d.DisposeAsync();
        await using (var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        }
        Directory.Delete(_root, recursive: true);
    }
}
