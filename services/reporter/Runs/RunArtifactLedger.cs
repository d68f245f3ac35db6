using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Reporter.Runs;

/// <summary>
/// The run artifacts (PipelineLib's <c>copy</c> with <c>archive: true</c>) each run's test steps announced: what the
/// run page lists, and the only files the download endpoint serves.
/// </summary>
public sealed class RunArtifactLedger(NpgsqlDataSource dataSource, SchemaName schema, ILogger<RunArtifactLedger>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<RunArtifactLedger>.Instance;

    private readonly string _s = schema.Value;

    /// <summary>
    /// From <c>test.succeeded</c>, each under the stage it belongs to (a later stage's copy out of this step's container
    /// is that stage's); a re-delivered event or a retried step's newer attempt replaces the rows. A path the tester
    /// would not have archived (<see cref="Accepted"/>) is left out: it never reaches the page, a download or a link.
    /// </summary>
    public async Task RecordAsync(NpgsqlTransaction tx, string runId, object stepEvent, CancellationToken ct)
    {
        if (stepEvent is not TestSucceeded { Artifacts: { Count: > 0 } artifacts } t) return;
        var accepted = Accepted(artifacts, out var refused);
        foreach (var a in accepted)
            await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
                INSERT INTO {_s}.run_artifacts (run_id, stage, step, path, size_bytes, sha256, at)
                VALUES (@runId, @Stage, @Step, @Path, @SizeBytes, @Sha256, @at)
                ON CONFLICT (run_id, stage, path) DO UPDATE SET step = EXCLUDED.step, size_bytes = EXCLUDED.size_bytes,
                    sha256 = EXCLUDED.sha256, at = EXCLUDED.at
                """, new { runId, Stage = a.Stage ?? t.Stage, t.Step, a.Path, a.SizeBytes, a.Sha256, at = t.FinishedAt }, tx, cancellationToken: ct));
        foreach (var why in refused)
            _logger.LogWarning("run {RunId}: step {Step}: artifact not recorded: {Why}", runId, t.Step, why);
    }

    /// <summary>
    /// The artifacts whose paths hold no <see cref="HostileCharacters"/> (the tester's rule, checked again here: the event
    /// is input); <paramref name="refused"/> says, escaped, which paths were left out and why.
    /// </summary>
    public static IReadOnlyList<RunArtifact> Accepted(IReadOnlyList<RunArtifact> artifacts, out IReadOnlyList<string> refused)
    {
        var kept = new List<RunArtifact>(artifacts.Count);
        var left = new List<string>();
        foreach (var a in artifacts)
            if (HostileCharacters.Find(a.Path) is { } hostile) left.Add($"`{HostileCharacters.Escaped(a.Path)}` contains {hostile}");
            else kept.Add(a);
        refused = left;
        return kept;
    }

    public async Task<IReadOnlyList<RunArtifactView>> ReadAsync(string runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<RunArtifactView>(new CommandDefinition($"""
            SELECT stage AS Stage, step AS Step, path AS Path, size_bytes AS SizeBytes, sha256 AS Sha256 FROM {_s}.run_artifacts
             WHERE run_id = @runId ORDER BY stage, path
            """, new { runId }, cancellationToken: ct))).ToList();
    }

    /// <summary>One listed artifact, or null when the run lists no such file.</summary>
    public async Task<RunArtifactView?> FindAsync(string runId, string stage, string path, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<RunArtifactView>(new CommandDefinition($"""
            SELECT stage AS Stage, step AS Step, path AS Path, size_bytes AS SizeBytes, sha256 AS Sha256 FROM {_s}.run_artifacts
             WHERE run_id = @runId AND stage = @stage AND path = @path
            """, new { runId, stage, path }, cancellationToken: ct));
    }
}

/// <summary>A run artifact: the stage and step that kept it, its workspace path, size and SHA-256.</summary>
public sealed record RunArtifactView
{
    public string Stage { get; init; } = "";
    public string Step { get; init; } = "";
    public string Path { get; init; } = "";
    public long SizeBytes { get; init; }
    public string Sha256 { get; init; } = "";
}
