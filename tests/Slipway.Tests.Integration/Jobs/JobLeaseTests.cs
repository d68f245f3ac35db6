using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Jobs;

public sealed class JobLeaseTests
{
    [Fact]
    public async Task A_job_whose_worker_was_killed_is_retried_by_another_worker_after_its_lease_expires()
    {
        await using var env = new ProbeEnvironment();
        // Longer than the 4 s job, so the survivor's attempt never depends on a renewal: under heavy load a renewal slower
        // than its deadline rightly gives the lease up (a 2 s and a 4 s lease did), and a third attempt ran.
        var shortLease = new Dictionary<string, string?> { ["Jobs__LeaseSeconds"] = "10", ["Jobs__PollMilliseconds"] = "100" };
        await env.Kafka.ProduceAsync(env.InTopic, "warmup", ProbeEnvironment.ProbeEvent("warmup", 0)); // creates the topic
        var dying = env.StartProbe("dying", shortLease);
        await dying.WaitUntilAssignedAsync(TimeSpan.FromSeconds(90)); // migrated and running

        await using (var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString))
        {
            await conn.OpenAsync();
            await using var tx = await conn.BeginTransactionAsync();
            var queue = new JobQueue(NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString), new SchemaName(env.Schema));
            Assert.NotNull(await queue.EnqueueAsync(tx, new NewJob("sleep", "job-1", "\"4000\"")));
            Assert.Null(await queue.EnqueueAsync(tx, new NewJob("sleep", "job-1", "\"4000\""))); // idempotent
            await tx.CommitAsync();
        }

        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.job_runs", 1, TimeSpan.FromSeconds(30));
        dying.KillHard();

        env.StartProbe("survivor", shortLease);
        await env.WaitForCountAsync("SELECT count(*) FROM $schema$.jobs WHERE state = 'succeeded'", 1, TimeSpan.FromSeconds(60));

        var runs = await env.QueryAsync<(int Attempt, string Instance)>("SELECT attempt, instance FROM $schema$.job_runs ORDER BY attempt");
        Assert.Equal([(1, "dying"), (2, "survivor")], runs);
        Assert.Equal(2, await env.QueryScalarAsync<int>("SELECT attempts FROM $schema$.jobs"));
    }

    [Fact]
    public async Task Leases_are_exclusive_until_they_expire_and_a_lost_lease_cannot_finish_the_job()
    {
        await using var jobs = await JobSchema.CreateAsync();
        var (dataSource, queue) = (jobs.DataSource, jobs.Queue);
        await using (var conn = await dataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await queue.EnqueueAsync(tx, new NewJob("build", "run-1/build", "{}", RunId: "run-1"));
            await tx.CommitAsync();
        }

        var first = await queue.TryLeaseAsync("worker-a", TimeSpan.FromSeconds(1));
        Assert.NotNull(first);
        Assert.Equal(1, first.Attempts);
        Assert.Null(await queue.TryLeaseAsync("worker-b", TimeSpan.FromSeconds(1)));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var second = await queue.TryLeaseAsync("worker-b", TimeSpan.FromSeconds(30));
        Assert.NotNull(second);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Attempts);

        Assert.False(await queue.RenewAsync(first, TimeSpan.FromSeconds(30)));
        await using (var conn = await dataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            Assert.False(await queue.FinishAsync(tx, first, succeeded: true));
            Assert.True(await queue.FinishAsync(tx, second, succeeded: true));
            await tx.CommitAsync();
        }
        Assert.Equal(0, await queue.CountOpenAsync());
    }

    [Fact]
    public async Task Jobs_with_the_same_serial_key_are_leased_one_at_a_time_oldest_first()
    {
        await using var jobs = await JobSchema.CreateAsync();
        var (dataSource, queue) = (jobs.DataSource, jobs.Queue);
        await using (var conn = await dataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await queue.EnqueueAsync(tx, new NewJob("comment", "start", "{}", SerialKey: "comments/run-1"));
            await queue.EnqueueAsync(tx, new NewJob("comment", "result", "{}", SerialKey: "comments/run-1"));
            await queue.EnqueueAsync(tx, new NewJob("comment", "other-run", "{}", SerialKey: "comments/run-2"));
            await tx.CommitAsync();
        }

        var first = await queue.TryLeaseAsync("a", TimeSpan.FromSeconds(30));
        var second = await queue.TryLeaseAsync("b", TimeSpan.FromSeconds(30));
        Assert.Equal("start", first!.DedupeKey);
        Assert.Equal("other-run", second!.DedupeKey); // "result" waits for "start"
        Assert.Null(await queue.TryLeaseAsync("c", TimeSpan.FromSeconds(30)));

        await using (var conn = await dataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            Assert.True(await queue.FinishAsync(tx, first, succeeded: true));
            await tx.CommitAsync();
        }
        Assert.Equal("result", (await queue.TryLeaseAsync("c", TimeSpan.FromSeconds(30)))!.DedupeKey);
    }

    [Fact]
    public async Task Migrations_applied_by_several_instances_at_once_run_each_script_once()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("mig_"));
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaMigrator.MigrateAsync(
                TestInfrastructure.PostgresConnectionString, schema,
                [typeof(JobQueue).Assembly, typeof(Slipway.Messaging.Outbox).Assembly], NullLogger.Instance)));
            await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {schema}.schema_versions", conn);
            Assert.Equal(4L, await cmd.ExecuteScalarAsync()); // jobs, job serial key, job traceparent, inbox+outbox
        }
        finally
        {
            await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
            await conn.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", conn);
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>A migrated jobs schema of its own, dropped on dispose (also when the test fails).</summary>
    private sealed class JobSchema : IAsyncDisposable
    {
        private readonly SchemaName _schema = new(TestInfrastructure.UniqueName("jobs_"));
        public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        public JobQueue Queue => new(DataSource, _schema);

        public static async Task<JobSchema> CreateAsync()
        {
            var jobs = new JobSchema();
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, jobs._schema, [typeof(JobQueue).Assembly],
                NullLogger.Instance);
            return jobs;
        }

        public async ValueTask DisposeAsync()
        {
            await using (var cmd = DataSource.CreateCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE"))
                await cmd.ExecuteNonQueryAsync();
            await DataSource.DisposeAsync();
        }
    }
}
