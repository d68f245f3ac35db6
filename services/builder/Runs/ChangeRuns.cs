using Dapper;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary>
/// The builder's <c>change_runs</c> table: the runs of each change, recorded with the trigger; and <c>change_stops</c>:
/// which changes were abandoned or superseded, so a run that starts after that is stopped at once.
/// </summary>
public sealed class ChangeRuns(SchemaName schema)
{
    private readonly string _table = $"{schema.Value}.change_runs";
    private readonly string _stops = $"{schema.Value}.change_stops";

    /// <summary>Remembers that the change's runs stop: all of them (abandoned), or those below <paramref name="belowPatchset"/>.</summary>
    public Task StopAsync(NpgsqlTransaction tx, string project, int change, int? belowPatchset, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO {_stops} (project, change, abandoned, below_patchset) VALUES (@project, @change, @abandoned, @belowPatchset)
            ON CONFLICT (project, change) DO UPDATE
               SET abandoned = {_stops}.abandoned OR EXCLUDED.abandoned,
                   below_patchset = GREATEST({_stops}.below_patchset, EXCLUDED.below_patchset)
            """,
            new { project, change, abandoned = belowPatchset is null, belowPatchset }, tx, cancellationToken: ct));

    /// <summary>A restored change runs again.</summary>
    public Task RestoreAsync(NpgsqlTransaction tx, string project, int change, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_stops} SET abandoned = false WHERE project = @project AND change = @change",
            new { project, change }, tx, cancellationToken: ct));

    /// <summary>Why a run of this change (and patch set) must not go on, or null.</summary>
    public async Task<string?> StopReasonAsync(NpgsqlTransaction tx, string project, int change, int? patchset, CancellationToken ct)
    {
        var row = await tx.Connection!.QuerySingleOrDefaultAsync<(bool Abandoned, int? Below)?>(new CommandDefinition(
            $"SELECT abandoned, below_patchset FROM {_stops} WHERE project = @project AND change = @change",
            new { project, change }, tx, cancellationToken: ct));
        if (row is not { } stop) return null;
        if (stop.Abandoned) return "the change was abandoned";
        return stop.Below is { } below && patchset is { } ps && ps < below ? $"superseded by patch set {below}" : null;
    }

    public Task AddAsync(NpgsqlTransaction tx, string runId, string project, int change, int? patchset, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {_table} (run_id, project, change, patchset) VALUES (@runId, @project, @change, @patchset) ON CONFLICT DO NOTHING",
            new { runId, project, change, patchset }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<(string RunId, int? Patchset)>> OfChangeAsync(NpgsqlTransaction tx, string project, int change, CancellationToken ct) =>
        (await tx.Connection!.QueryAsync<(string, int?)>(new CommandDefinition(
            $"SELECT run_id, patchset FROM {_table} WHERE project = @project AND change = @change ORDER BY created_at",
            new { project, change }, tx, cancellationToken: ct))).ToList();
}
