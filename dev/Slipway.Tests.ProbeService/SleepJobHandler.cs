using Npgsql;
using Slipway.Storage;
using Slipway.Storage.Jobs;

namespace Slipway.Tests.ProbeService;

/// <summary>A long step: records each attempt, then sleeps for the payload's milliseconds.</summary>
public sealed class SleepJobHandler(SchemaName schema, IConfiguration configuration) : IJobHandler
{
    public string Kind => "sleep";

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        await using (var conn = new NpgsqlConnection(configuration["Postgres:ConnectionString"]))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand($"INSERT INTO {schema.Value}.job_runs VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = job.Id });
            cmd.Parameters.Add(new NpgsqlParameter { Value = job.Attempts });
            cmd.Parameters.Add(new NpgsqlParameter { Value = configuration["Probe:Instance"] ?? Environment.ProcessId.ToString() });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await Task.Delay(int.Parse(job.Payload.Trim('"')), ct);
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct) => Task.CompletedTask;
}
