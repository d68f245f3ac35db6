using Dapper;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary>The builder's <c>change_runs</c> table: the runs of each change, recorded with the trigger.</summary>
public sealed class ChangeRuns(SchemaName schema)
{
    private readonly string _table = $"{schema.Value}.change_runs";

    public Task AddAsync(NpgsqlTransaction tx, string runId, string project, int change, int? patchset, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {_table} (run_id, project, change, patchset) VALUES (@runId, @project, @change, @patchset) ON CONFLICT DO NOTHING",
            new { runId, project, change, patchset }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<(string RunId, int? Patchset)>> OfChangeAsync(NpgsqlTransaction tx, string project, int change, CancellationToken ct) =>
        (await tx.Connection!.QueryAsync<(string, int?)>(new CommandDefinition(
            $"SELECT run_id, patchset FROM {_table} WHERE project = @project AND change = @change ORDER BY created_at",
            new { project, change }, tx, cancellationToken: ct))).ToList();
}
