using Dapper;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary>
/// Gives each run of a project a start second of its own (<c>run_start_seconds</c>). The run's start time names its
/// published image (<c>yyyy-MM-dd-HHmmss-&lt;stage&gt;</c>, PipelineLib's <c>${setup.timestamp}</c>), so two runs of one
/// project started in the same second, by one builder or two, would push one tag twice at two digests. The later run
/// takes the next free second instead. Claimed in its own committed transaction before planning (the plan reads the
/// time); a claim whose run is never emitted (a crash, a retry) only leaves a second unused.
/// </summary>
public sealed class RunStartSeconds(NpgsqlDataSource dataSource, SchemaName schema)
{
    private const int MaxTries = 3600; // an hour of seconds: more runs of one project than that in one second is no trigger stream
    private readonly string _table = $"{schema.Value}.run_start_seconds";

    /// <summary><paramref name="now"/> when its second is free for the project, else the start of the next free second.</summary>
    public async Task<DateTimeOffset> ClaimAsync(string project, DateTimeOffset now, CancellationToken ct)
    {
        var second = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {_table} WHERE project = @project AND started_at < @cutoff", new { project, cutoff = second.AddDays(-1) },
            cancellationToken: ct));
        for (var i = 0; i < MaxTries; i++)
        {
            var candidate = second.AddSeconds(i);
            // A concurrent claim of the same second waits for the other's commit, then sees the conflict.
            var claimed = await conn.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO {_table} (project, started_at) VALUES (@project, @candidate) ON CONFLICT DO NOTHING",
                new { project, candidate }, cancellationToken: ct));
            if (claimed == 1) return i == 0 ? now : candidate;
        }
        throw new InvalidOperationException($"no free start second for {project} within an hour of {second:O}");
    }
}
