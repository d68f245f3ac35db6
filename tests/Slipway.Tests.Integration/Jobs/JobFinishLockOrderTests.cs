using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Messaging;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Jobs;

/// <summary>
/// A step job's finishing transaction and an event of the same run both lock the run's row and the job's row. They used
/// to take them in opposite orders (the job's first, then the run's; the event's handler the run's, then its jobs), and
/// Postgres killed one as a deadlock: the builder's step failed with "40P01: deadlock detected" instead of its real
/// reason. Real Postgres, real locks.
/// </summary>
public sealed class JobFinishLockOrderTests
{
    private const string RunId = "run-lock-order";

    [Fact]
    public async Task A_finishing_step_job_waits_for_its_runs_row_before_it_locks_its_own_row()
    {
        await using var db = await RunSchema.CreateAsync();
        var job = await db.EnqueueAndLeaseStepJobAsync();
        var runs = new RunStateStore(db.Schema);
        var handler = new StepJobHandler(db.DataSource, runs, new Outbox(db.Schema, new TopicNames(Options.Create(new KafkaOptions()))),
            new RunEventFactory(new SlipwayServiceDefinition("lock-order-test", db.Schema.Value)), [], TimeProvider.System,
            NullLogger<StepJobHandler>.Instance);

        // An event of the run is being handled: its transaction holds the run's row.
        await using var eventConn = await db.DataSource.OpenConnectionAsync();
        await using var eventTx = await eventConn.BeginTransactionAsync();
        await runs.LockAsync(eventTx, RunId, CancellationToken.None);

        // The step finishes meanwhile: its commit waits for the run's row...
        var completion = new JobCompletion(db.DataSource, db.Queue, job, handler);
        var effectsRan = 0;
        var commit = completion.CommitAsync(async tx => { effectsRan++; await runs.LockAsync(tx, RunId, CancellationToken.None); });
        await db.WaitUntilABackendWaitsForALockAsync();

        // ...without holding the job's row, so the event's handler can cancel the run's jobs (it used to be a deadlock).
        await using (var probe = await db.DataSource.OpenConnectionAsync())
        await using (var probeTx = await probe.BeginTransactionAsync())
        await using (var nowait = new NpgsqlCommand($"SELECT 1 FROM {db.Schema}.jobs WHERE id = @id FOR UPDATE NOWAIT", probe, probeTx))
        {
            nowait.Parameters.AddWithValue("id", job.Id);
            Assert.Equal(1, await nowait.ExecuteScalarAsync()); // 55P03 "could not obtain lock" when the job's row is held
        }
        Assert.Equal(1, await db.Queue.CancelRunAsync(eventTx, RunId));
        await eventTx.CommitAsync();

        // The run's jobs were cancelled first: the late finish has no lease to finish with, and wrote nothing.
        await Assert.ThrowsAsync<LeaseLostException>(() => commit);
        Assert.Equal(0, effectsRan);
        Assert.Equal("cancelled", await db.ScalarAsync<string>($"SELECT state FROM {db.Schema}.jobs WHERE id = {job.Id}"));
    }

    [Fact]
    public async Task A_finish_that_postgres_picks_as_a_deadlocks_victim_is_committed_again_once()
    {
        await using var db = await RunSchema.CreateAsync();
        var job = await db.EnqueueAndLeaseStepJobAsync();
        var runs = new RunStateStore(db.Schema);

        // Another transaction holds the run's row and will touch the job's row; it waits longer than the default 1 s
        // before it looks for a deadlock, so the finishing transaction is the one Postgres rolls back.
        await using var otherConn = await db.DataSource.OpenConnectionAsync();
        await using var otherTx = await otherConn.BeginTransactionAsync();
        await using (var slow = new NpgsqlCommand("SET LOCAL deadlock_timeout = '20s'", otherConn, otherTx)) await slow.ExecuteNonQueryAsync();
        await runs.LockAsync(otherTx, RunId, CancellationToken.None);

        // A handler that locks nothing first takes the job's row, then waits for the run's: the old order.
        var completion = new JobCompletion(db.DataSource, db.Queue, job, new LocksNothingFirst());
        var effectsRan = 0;
        var commit = completion.CommitAsync(async tx =>
        {
            effectsRan++;
            await runs.LockAsync(tx, RunId, CancellationToken.None);
            await using var record = new NpgsqlCommand($"UPDATE {db.Schema}.run_state SET outcome = 'succeeded' WHERE run_id = @run", tx.Connection, tx);
            record.Parameters.AddWithValue("run", RunId);
            await record.ExecuteNonQueryAsync();
        });
        await db.WaitUntilABackendWaitsForALockAsync();
        await using (var touch = new NpgsqlCommand($"UPDATE {db.Schema}.jobs SET updated_at = now() WHERE id = @id", otherConn, otherTx))
        {
            touch.Parameters.AddWithValue("id", job.Id);
            await touch.ExecuteNonQueryAsync(); // waits until Postgres rolls the finish back as the deadlock's victim
        }
        await otherTx.CommitAsync();

        await commit; // tried again after the rollback, and committed
        Assert.Equal(2, effectsRan);
        Assert.Equal("succeeded", await db.ScalarAsync<string>($"SELECT state FROM {db.Schema}.jobs WHERE id = {job.Id}"));
        Assert.Equal("succeeded", await db.ScalarAsync<string>($"SELECT outcome FROM {db.Schema}.run_state WHERE run_id = '{RunId}'"));
    }

    private sealed class LocksNothingFirst : IJobHandler
    {
        public string Kind => StepJob.Kind;
        public Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct) => Task.CompletedTask;
        public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct) => Task.CompletedTask;
    }

    /// <summary>A schema with the job queue and the run state tables, one open run and nothing else.</summary>
    private sealed class RunSchema : IAsyncDisposable
    {
        public SchemaName Schema { get; } = new(TestInfrastructure.UniqueName("lockorder_"));
        public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        public JobQueue Queue => new(DataSource, Schema);

        public static async Task<RunSchema> CreateAsync()
        {
            var db = new RunSchema();
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, db.Schema,
                [typeof(JobQueue).Assembly, typeof(RunStateStore).Assembly], NullLogger.Instance);
            await using var insert = db.DataSource.CreateCommand(
                $"INSERT INTO {db.Schema}.run_state (run_id, started, project, change, patchset) VALUES ('{RunId}', '{{}}'::jsonb, 'demo/x', 1, 1)");
            await insert.ExecuteNonQueryAsync();
            return db;
        }

        public async Task<LeasedJob> EnqueueAndLeaseStepJobAsync()
        {
            await using (var conn = await DataSource.OpenConnectionAsync())
            await using (var tx = await conn.BeginTransactionAsync())
            {
                var payload = JsonSerializer.Serialize(new StepJob.Payload(RunId, "build-test"), ContractJson.Options);
                Assert.NotNull(await Queue.EnqueueAsync(tx, new NewJob(StepJob.Kind, $"{RunId}/build-test", payload, RunId: RunId)));
                await tx.CommitAsync();
            }
            return (await Queue.TryLeaseAsync("worker", TimeSpan.FromMinutes(5)))!;
        }

        /// <summary>Until a session of this test waits for a row lock (bounded).</summary>
        public async Task WaitUntilABackendWaitsForALockAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                if (await ScalarAsync<long>(
                        $"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%{Schema.Value}%'") > 0)
                    return;
                await Task.Delay(50);
            }
            throw new TimeoutException("no session waited for a lock");
        }

        public async Task<T> ScalarAsync<T>(string sql)
        {
            await using var cmd = DataSource.CreateCommand(sql);
            return (T)(await cmd.ExecuteScalarAsync())!;
        }

        public async ValueTask DisposeAsync()
        {
            await using (var cmd = DataSource.CreateCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE"))
                await cmd.ExecuteNonQueryAsync();
            await DataSource.DisposeAsync();
        }
    }
}
