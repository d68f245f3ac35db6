using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// Serializes the writes and rollouts of one service in one environment across every deployer instance: a turn is a
/// Postgres session advisory lock held on its own connection for the whole rollout (a crashed instance's connection
/// closes and frees it), and the <c>rollout_heads</c> row says which run recorded its image last and when that run was
/// triggered. A run triggered before the head is superseded: it must not overwrite a newer run's image.
/// </summary>
public sealed class RolloutGate(NpgsqlDataSource dataSource, SchemaName schema, ILogger<RolloutGate> logger)
{
    private readonly string _table = $"{schema.Value}.rollout_heads";
    private readonly ILogger _logger = logger;

    /// <summary>The run whose image an environment's service records last, and when its trigger came.</summary>
    public sealed record Head(string RunId, DateTimeOffset RunStartedAt);

    /// <summary>Waits (as long as the token allows) until no other rollout of the service in the environment is under way.</summary>
    public async Task<Turn> WaitForTurnAsync(string environment, string service, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            // The schema is part of the key: deployers of different installations sharing a database never wait for each other.
            var key = $"slipway-rollout:{schema.Value}:{environment}/{service}";
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(hashtextextended(@key, 0))", new { key },
                    cancellationToken: ct)))
            {
                _logger.LogInformation("{Service} in {Environment}: another rollout is under way; waiting for its end", service, environment);
                // No command timeout: a rollout may take minutes; the token (the job's lease) bounds the wait.
                await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(hashtextextended(@key, 0))", new { key }, commandTimeout: 0,
                    cancellationToken: ct));
            }
            return new Turn(this, conn, key, environment, service);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>One rollout's exclusive turn; disposing it lets the next one go.</summary>
    public sealed class Turn : IAsyncDisposable
    {
        private readonly RolloutGate _gate;
        private readonly NpgsqlConnection _conn;
        private readonly string _key;
        private readonly string _environment;
        private readonly string _service;

        internal Turn(RolloutGate gate, NpgsqlConnection conn, string key, string environment, string service) =>
            (_gate, _conn, _key, _environment, _service) = (gate, conn, key, environment, service);

        /// <summary>
        /// The head when it is another run triggered later than <paramref name="runId"/> (started at <paramref name="runStartedAt"/>;
        /// equal times are ordered by run id), else null: the run may record and roll out.
        /// </summary>
        public async Task<Head?> NewerHeadAsync(string runId, DateTimeOffset runStartedAt, CancellationToken ct)
        {
            var head = await _conn.QuerySingleOrDefaultAsync<(string RunId, DateTime StartedAt)?>(new CommandDefinition(
                $"SELECT run_id, run_started_at FROM {_gate._table} WHERE environment = @environment AND service = @service",
                new { environment = _environment, service = _service }, cancellationToken: ct));
            if (head is not { } h || h.RunId == runId) return null;
            var headStarted = new DateTimeOffset(DateTime.SpecifyKind(h.StartedAt, DateTimeKind.Utc));
            var mine = Microseconds(runStartedAt);
            var newer = headStarted > mine || (headStarted == mine && string.CompareOrdinal(h.RunId, runId) > 0);
            return newer ? new Head(h.RunId, headStarted) : null;
        }

        /// <summary>Notes that <paramref name="runId"/> recorded its image: runs triggered before it are superseded from now on.</summary>
        public Task RecordAsync(string runId, DateTimeOffset runStartedAt, CancellationToken ct) =>
            _conn.ExecuteAsync(new CommandDefinition(
                $"""
                INSERT INTO {_gate._table} (environment, service, run_id, run_started_at) VALUES (@environment, @service, @runId, @startedAt)
                ON CONFLICT (environment, service) DO UPDATE SET run_id = EXCLUDED.run_id, run_started_at = EXCLUDED.run_started_at, recorded_at = now()
                """,
                new { environment = _environment, service = _service, runId, startedAt = Microseconds(runStartedAt) }, cancellationToken: ct));

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _conn.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended(@key, 0))", new { key = _key });
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // A broken connection is not pooled again, and its session (with the lock) ends with it.
                _gate._logger.LogWarning("{Service} in {Environment}: releasing the rollout lock failed ({Error}); it ends with the session",
                    _service, _environment, e.Message);
            }
            await _conn.DisposeAsync();
        }

        // Postgres keeps microseconds: compare what is stored with what was stored.
        private static DateTimeOffset Microseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);
    }
}
