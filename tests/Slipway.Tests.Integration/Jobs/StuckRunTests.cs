using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Jobs;

/// <summary>A stage service's host wiring with its hosted services running; runs whose last event is old in its run state.</summary>
public sealed class StuckRunTests
{
    [Fact]
    public async Task A_run_whose_next_event_never_comes_is_failed_with_a_reason_through_run_finished_and_its_jobs_cancelled()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("stuck_"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = TestInfrastructure.PostgresConnectionString,
            ["Kafka:BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
            ["Kafka:TopicPrefix"] = TestInfrastructure.UniqueName("t") + ".",
            ["Kafka:RelayOutbox"] = "false", // the run.finished stays in the outbox for the test to read
            ["Runs:StuckAfter"] = "00:01:00",
            ["Runs:AwaitingApprovalStuckAfter"] = "01:00:00",
            ["Runs:StuckCheckInterval"] = "00:00:01",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(new SlipwayServiceDefinition("stuck-test", schema.Value));
        services.AddSingleton<IStepPerformer>(new DeclaredPerformer(StepKind.Test)); // the service of the step the run waits for
        services.AddSlipwayStorage(configuration, schema).AddSlipwayMessaging(configuration).AddRunTracking(configuration);
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        var dataSource = provider.GetRequiredService<NpgsqlDataSource>();
        try
        {
            await hosted[0].StartAsync(CancellationToken.None); // migrations first, as the host does
            var started = JsonSerializer.Serialize(Started(), ContractJson.Options);
            await using (var conn = await dataSource.OpenConnectionAsync())
                await conn.ExecuteAsync($$"""
                    INSERT INTO {{schema}}.run_state (run_id, started, steps, last_event_at, last_event_type) VALUES
                        ('stuck', @started::jsonb, @builtSteps::jsonb, now() - interval '2 minutes 30 seconds', 'slipway.build.succeeded.v1'),
                        ('moving', @started::jsonb, '{}', now() - interval '10 seconds', 'slipway.build.started.v1'),
                        ('awaiting-approval', @started::jsonb, '{}', now() - interval '5 minutes', 'slipway.approval.requested.v1');
                    INSERT INTO {{schema}}.jobs (kind, dedupe_key, run_id, payload) VALUES ('other', 'other:stuck', 'stuck', '{}'); -- a kind no worker here takes: stays pending
                    """, new
                    {
                        started,
                        builtSteps = """{"build": {"outcome": "succeeded", "attempt": 1, "durationMs": 1000, "data": null}}""",
                    });
            foreach (var service in hosted.Skip(1)) await service.StartAsync(CancellationToken.None);

            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.outbox") == 0 && DateTime.UtcNow < deadline)
                    await Task.Delay(200);
                var emitted = (await conn.QueryAsync<(string Key, byte[] Payload)>($"SELECT key, payload FROM {schema}.outbox")).ToList();
                var (key, payload) = Assert.Single(emitted);
                Assert.Equal("stuck", key);
                var envelope = EventEnvelope.Parse(payload);
                var finished = Assert.IsType<RunFinished>(envelope.Event());
                Assert.Equal(RunOutcome.Failed, finished.Outcome);
                Assert.Equal(("test", "run"), (finished.FailedStage, finished.FailedStep)); // the step the run waited for
                Assert.Matches(@"^no progress for 2m: the last event \(build\.succeeded\) came at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC and run never reported; the run was given up$",
                    finished.Reason);
                Assert.Equal([StepOutcome.Succeeded, StepOutcome.Skipped], finished.Steps.Select(s => s.Outcome));

                Assert.Equal([("awaiting-approval", (string?)null), ("moving", null), ("stuck", "failed")],
                    await conn.QueryAsync<(string, string?)>($"SELECT run_id, outcome FROM {schema}.run_state ORDER BY run_id"));
                Assert.Equal("cancelled", await conn.ExecuteScalarAsync<string>($"SELECT state FROM {schema}.jobs WHERE run_id = 'stuck'"));
            }
        }
        finally
        {
            foreach (var service in Enumerable.Reverse(hosted)) await service.StopAsync(CancellationToken.None);
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    [Fact]
    public async Task A_stuck_run_is_failed_exactly_once_across_stage_services_and_their_instances()
    {
        // Two stage services (a builder's and a tester's steps), two instances each, all sweeping every second; each service's
        // run state has the same run, stuck after its build while it waits for its test.
        var prefix = TestInfrastructure.UniqueName("t") + ".";
        var schemas = new[] { new SchemaName(TestInfrastructure.UniqueName("stuck_builds_")), new SchemaName(TestInfrastructure.UniqueName("stuck_tests_")) };
        var kinds = new[] { StepKind.Build, StepKind.Test };
        var instances = new List<(ServiceProvider Provider, List<IHostedService> Hosted, SchemaName Schema)>();
        try
        {
            for (var service = 0; service < 2; service++)
                for (var instance = 0; instance < 2; instance++)
                {
                    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        ["Postgres:ConnectionString"] = TestInfrastructure.PostgresConnectionString,
                        ["Kafka:BootstrapServers"] = TestInfrastructure.KafkaBootstrap,
                        ["Kafka:TopicPrefix"] = prefix,
                        ["Kafka:RelayOutbox"] = "false", // run.finished stays in the outboxes for the test to count
                        ["Runs:StuckAfter"] = "00:01:00",
                        ["Runs:StuckCheckInterval"] = "00:00:01",
                    }).Build();
                    var services = new ServiceCollection().AddLogging();
                    services.AddSingleton(new SlipwayServiceDefinition($"stuck-{kinds[service]}", schemas[service].Value));
                    services.AddSingleton<IStepPerformer>(new DeclaredPerformer(kinds[service]));
                    services.AddSlipwayStorage(configuration, schemas[service]).AddSlipwayMessaging(configuration).AddRunTracking(configuration);
                    var provider = services.BuildServiceProvider();
                    instances.Add((provider, provider.GetServices<IHostedService>().ToList(), schemas[service]));
                }
            foreach (var (_, hosted, _) in instances) await hosted[0].StartAsync(CancellationToken.None); // migrations
            var dataSource = instances[0].Provider.GetRequiredService<NpgsqlDataSource>();
            var started = JsonSerializer.Serialize(Started(), ContractJson.Options);
            await using (var conn = await dataSource.OpenConnectionAsync())
                foreach (var schema in schemas)
                    await conn.ExecuteAsync($"""
                        INSERT INTO {schema}.run_state (run_id, started, steps, last_event_at, last_event_type) VALUES
                            ('stuck', @started::jsonb, @builtSteps::jsonb, now() - interval '2 minutes', 'slipway.build.succeeded.v1')
                        """, new { started, builtSteps = """{"build": {"outcome": "succeeded", "attempt": 1, "durationMs": 1000, "data": null}}""" });
            foreach (var (_, hosted, _) in instances)
                foreach (var service in hosted.Skip(1)) await service.StartAsync(CancellationToken.None);

            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schemas[1]}.outbox") == 0 && DateTime.UtcNow < deadline)
                    await Task.Delay(200);
                await Task.Delay(TimeSpan.FromSeconds(4)); // several more sweeps of every instance
                var emitted = new List<EventEnvelope>();
                foreach (var schema in schemas)
                    emitted.AddRange((await conn.QueryAsync<byte[]>($"SELECT payload FROM {schema}.outbox")).Select(p => EventEnvelope.Parse(p)));
                var finished = Assert.Single(emitted); // one run.finished in all: the tester's service gave the run up
                Assert.Equal(RunOutcome.Failed, Assert.IsType<RunFinished>(finished.Event()).Outcome);
                Assert.Equal(1, await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schemas[1]}.outbox"));
                Assert.Equal("failed", await conn.ExecuteScalarAsync<string>($"SELECT outcome FROM {schemas[1]}.run_state WHERE run_id = 'stuck'"));
                // The builder's service leaves it open until the run.finished reaches it.
                Assert.Null(await conn.ExecuteScalarAsync<string>($"SELECT outcome FROM {schemas[0]}.run_state WHERE run_id = 'stuck'"));
            }
        }
        finally
        {
            foreach (var (provider, hosted, _) in instances)
            {
                foreach (var service in Enumerable.Reverse(hosted)) await service.StopAsync(CancellationToken.None);
            }
            if (instances.Count > 0)
            {
                await using var conn = await instances[0].Provider.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
                foreach (var schema in schemas) await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            }
            foreach (var (provider, _, _) in instances) await provider.DisposeAsync();
        }
    }

    /// <summary>
    /// Declares which kind of step a service performs (the sweeper gives up only runs waiting for such a step). No job of its kind is
    /// recorded in these tests, so it never runs; if it did, the attempt would fail loudly.
    /// </summary>
    private sealed class DeclaredPerformer(StepKind kind) : IStepPerformer
    {
        public StepKind Kind => kind;

        public Task<StepResult> PerformAsync(StepExecution execution, CancellationToken ct) =>
            throw new InvalidOperationException($"no {kind} step is performed in this test");

        public IStepFailedEvent Failure(StepExecution execution, string reason) =>
            throw new InvalidOperationException($"no {kind} step is performed in this test");
    }

    private static RunStarted Started() => new()
    {
        Trigger = new RunTrigger { Kind = TriggerKind.Patchset, Project = "demo/hello", Change = 1, Patchset = 1, Ref = "refs/changes/01/1/1",
            Revision = new string('a', 40) },
        Plan = new RunPlan
        {
            Pipeline = "service",
            Stages =
            [
                new PlanStage { Name = "test", Steps = [
                    new PlanStep { Name = "build", Kind = StepKind.Build, Build = new BuildParams { Variant = "test" } },
                    new PlanStep { Name = "run", Kind = StepKind.Test, Run = new RunParams() } ] },
            ],
            Graph = [new PlanGraphNode { Stage = "test", DependsOn = [] }],
        },
        StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
    };
}
