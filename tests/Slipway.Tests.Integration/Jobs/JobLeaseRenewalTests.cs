using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Jobs;

/// <summary>
/// Lease renewal under Postgres errors: two worker hosts (two "instances") share one job table; a trigger makes
/// Postgres refuse lease renewals for a while (a real Postgres error on the renewal's UPDATE).
/// </summary>
public sealed class JobLeaseRenewalTests
{
    private static JobOptions Lease(double seconds) => new() { Executors = 1, LeaseSeconds = seconds, PollMilliseconds = 50, RetryDelaySeconds = 0 };

    [Fact]
    public async Task A_renewal_that_fails_once_keeps_the_lease_and_no_second_worker_runs_the_job()
    {
        await using var jobs = await RenewalSchema.CreateAsync();
        // A 3 s lease is renewed every second: the first renewal fails, later ones succeed. Counted, not timed, so a
        // loaded machine's late first renewal is still the one refused.
        await jobs.FailRenewalsAsync(attempt: 1, TimeSpan.FromHours(1), maxRefusals: 1);
        await jobs.EnqueueAsync(effects: 50); // 5 s of work or more, longer than the lease

        await using var a = await jobs.StartHostAsync(Lease(3));
        await using var b = await jobs.StartHostAsync(Lease(3));
        await jobs.WaitForStateAsync("succeeded", TimeSpan.FromSeconds(30));

        Assert.Equal(1, await jobs.ScalarAsync<int>("SELECT attempts FROM $s.jobs"));
        Assert.Equal([1], await jobs.ListAsync<int>("SELECT DISTINCT attempt FROM $s.effects"));
        Assert.Equal(50, await jobs.ScalarAsync<int>("SELECT count(*) FROM $s.effects"));
        Assert.Equal(1, await jobs.RefusalsAsync());
    }

    [Fact]
    public async Task Work_whose_lease_expired_unrenewed_stops_before_its_next_side_effect_and_the_next_worker_finishes_it()
    {
        await using var jobs = await RenewalSchema.CreateAsync();
        // The first worker's renewals fail well past its 3 s lease (as if its way to Postgres broke); the next worker's succeed.
        await jobs.FailRenewalsAsync(attempt: 1, TimeSpan.FromSeconds(8));
        await jobs.EnqueueAsync(effects: 50);

        await using var a = await jobs.StartHostAsync(Lease(3));
        await jobs.WaitForCountAsync("SELECT count(*) FROM $s.effects", 1, TimeSpan.FromSeconds(30));
        await using var b = await jobs.StartHostAsync(Lease(3));
        await jobs.WaitForStateAsync("succeeded", TimeSpan.FromSeconds(60));

        // The first attempt's side effects all happened while its lease held; none after it expired.
        var late = await jobs.ListAsync<int>(
            "SELECT e.seq FROM $s.effects e JOIN $s.leases l ON l.attempt = e.attempt WHERE e.attempt = 1 AND e.at >= l.expires_at");
        Assert.Empty(late);
        Assert.True(await jobs.ScalarAsync<int>("SELECT count(*) FROM $s.effects WHERE attempt = 1") < 50, "the first attempt ran to its end");
        Assert.Equal(50, await jobs.ScalarAsync<int>("SELECT count(*) FROM $s.effects WHERE attempt = 2"));
        Assert.Equal(2, await jobs.ScalarAsync<int>("SELECT attempts FROM $s.jobs"));
        Assert.True(await jobs.RefusalsAsync() >= 1, "no renewal was refused");
    }

    /// <summary>A side effect every 100 ms while the token holds; notes the lease's expiry as the database had it when it started.</summary>
    private sealed class EffectsHandler(NpgsqlDataSource dataSource, string schema) : IJobHandler
    {
        public string Kind => "effects";

        public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
        {
            await using (var conn = await dataSource.OpenConnectionAsync(ct))
                await conn.ExecuteAsync($"INSERT INTO {schema}.leases (attempt, expires_at) SELECT @Attempts, lease_expires_at FROM {schema}.jobs WHERE id = @Id",
                    new { job.Attempts, job.Id });
            var count = int.Parse(job.Payload);
            for (var seq = 0; seq < count; seq++)
            {
                ct.ThrowIfCancellationRequested();
                await using (var conn = await dataSource.OpenConnectionAsync(CancellationToken.None))
                    await conn.ExecuteAsync($"INSERT INTO {schema}.effects (attempt, seq) VALUES (@Attempts, @seq)", new { job.Attempts, seq });
                await Task.Delay(100, ct);
            }
        }

        public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct) => Task.CompletedTask;
    }

    /// <summary>A migrated job schema with the effects tables and a renewal-refusing trigger; dropped on dispose.</summary>
    private sealed class RenewalSchema : IAsyncDisposable
    {
        private readonly string _schema = TestInfrastructure.UniqueName("lease_");
        private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);

        public static async Task<RenewalSchema> CreateAsync()
        {
            var s = new RenewalSchema();
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, new SchemaName(s._schema), [typeof(JobQueue).Assembly],
                NullLogger.Instance);
            await s.ExecuteAsync("""
                CREATE TABLE $s.effects (attempt int NOT NULL, seq int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
                CREATE TABLE $s.leases (attempt int NOT NULL, leased_at timestamptz NOT NULL DEFAULT clock_timestamp(), expires_at timestamptz NOT NULL);
                CREATE TABLE $s.refuse_renewals (attempt int NOT NULL, span interval NOT NULL, max_refusals int);
                CREATE SEQUENCE $s.refusals MINVALUE 0 START 0; -- not transactional: counts refusals the RAISE rolled back
                CREATE FUNCTION $s.refusal_count() RETURNS bigint LANGUAGE sql AS
                    $c$ SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END FROM $s.refusals $c$;
                CREATE FUNCTION $s.refuse_renewal() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                    -- a renewal (the same owner keeps a running job) of an attempt within its refusal span from the lease
                    IF OLD.state = 'running' AND NEW.state = 'running' AND OLD.lease_owner = NEW.lease_owner
                       AND EXISTS (SELECT 1 FROM $s.refuse_renewals r JOIN $s.leases l ON l.attempt = r.attempt
                                    WHERE r.attempt = OLD.attempts AND clock_timestamp() < l.leased_at + r.span
                                      AND (r.max_refusals IS NULL OR $s.refusal_count() < r.max_refusals)) THEN
                        PERFORM nextval('$s.refusals');
                        RAISE EXCEPTION 'injected: renewal refused' USING ERRCODE = '57014';
                    END IF;
                    RETURN NEW;
                END $f$;
                """);
            await s.ExecuteAsync("CREATE TRIGGER refuse_renewal BEFORE UPDATE ON $s.jobs FOR EACH ROW EXECUTE FUNCTION $s.refuse_renewal()");
            return s;
        }

        /// <summary>Postgres refuses the renewals of <paramref name="attempt"/> for <paramref name="span"/> after its lease was
        /// taken (only the first <paramref name="maxRefusals"/>, when given).</summary>
        public Task FailRenewalsAsync(int attempt, TimeSpan span, int? maxRefusals = null) =>
            ExecuteAsync($"INSERT INTO $s.refuse_renewals VALUES ({attempt}, interval '{(long)span.TotalMilliseconds} milliseconds', {maxRefusals?.ToString() ?? "NULL"})");

        /// <summary>How many renewals Postgres refused.</summary>
        public Task<long> RefusalsAsync() => ScalarAsync<long>("SELECT $s.refusal_count()");

        public async Task EnqueueAsync(int effects)
        {
            await using var conn = await _dataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await new JobQueue(_dataSource, new SchemaName(_schema)).EnqueueAsync(tx, new NewJob("effects", "effects-1", effects.ToString(), MaxAttempts: 5));
            await tx.CommitAsync();
        }

        public async Task<WorkerHost> StartHostAsync(JobOptions options)
        {
            var host = new JobWorkerHost([new EffectsHandler(_dataSource, _schema)], _dataSource,
                new JobQueue(_dataSource, new SchemaName(_schema)), Options.Create(options), NullLogger<JobWorkerHost>.Instance);
            await host.StartAsync(CancellationToken.None);
            return new WorkerHost(host);
        }

        public async Task WaitForStateAsync(string state, TimeSpan timeout) =>
            await WaitForCountAsync($"SELECT count(*) FROM $s.jobs WHERE state = '{state}'", 1, timeout);

        public async Task WaitForCountAsync(string sql, long count, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (await ScalarAsync<long>(sql) < count)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"`{sql}` did not reach {count}; jobs: " +
                        string.Join("; ", await ListAsync<string>("SELECT state || ' attempts=' || attempts || ' ' || coalesce(last_error, '') FROM $s.jobs")));
                await Task.Delay(100);
            }
        }

        public async Task<T> ScalarAsync<T>(string sql)
        {
            await using var conn = await _dataSource.OpenConnectionAsync();
            return (await conn.ExecuteScalarAsync<T>(sql.Replace("$s", _schema)))!;
        }

        public async Task<List<T>> ListAsync<T>(string sql)
        {
            await using var conn = await _dataSource.OpenConnectionAsync();
            return (await conn.QueryAsync<T>(sql.Replace("$s", _schema))).ToList();
        }

        private async Task ExecuteAsync(string sql)
        {
            await using var conn = await _dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync(sql.Replace("$s", _schema));
        }

        public async ValueTask DisposeAsync()
        {
            await ExecuteAsync("DROP SCHEMA IF EXISTS $s CASCADE");
            await _dataSource.DisposeAsync();
        }
    }

    /// <summary>Stops the worker host on dispose (before the schema goes).</summary>
    private sealed class WorkerHost(JobWorkerHost host) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(timeout.Token);
            host.Dispose();
        }
    }
}
