using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Publisher.Registry;

/// <summary>
/// The image digests retention must never delete, as the deployer's events tell them: the image each
/// environment runs for each service, the one before it (the rollback target), and images waiting for an
/// approval. Written in the transaction of the event that says so (the consumer's inbox makes it once).
/// </summary>
public sealed class ProtectedImages(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _s = schema.Value;

    /// <summary>Records what <paramref name="e"/> says about deployed or waiting images; other events are ignored.</summary>
    public async Task RecordAsync(NpgsqlTransaction tx, string? runId, object? e, CancellationToken ct)
    {
        var conn = tx.Connection!;
        switch (e)
        {
            case ApprovalRequested { Image: { } image } requested:
                await conn.ExecuteAsync(new CommandDefinition(
                    $"INSERT INTO {_s}.awaiting_approval (run_id, environment, digest) VALUES (@RunId, @Environment, @Digest) " +
                    "ON CONFLICT (run_id, environment) DO UPDATE SET digest = EXCLUDED.digest",
                    new { requested.RunId, requested.Environment, image.Digest }, tx, cancellationToken: ct));
                break;
            case ApprovalRefused refused:
                await conn.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {_s}.awaiting_approval WHERE run_id = @RunId AND environment = @Environment",
                    new { refused.RunId, refused.Environment }, tx, cancellationToken: ct));
                break;
            case DeploySucceeded { SupersededBy: not null } superseded when runId is not null:
                // Nothing was rolled out (a newer run's image runs): the run no longer waits with its image.
                await conn.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {_s}.awaiting_approval WHERE run_id = @runId AND environment = @Environment",
                    new { runId, superseded.Environment }, tx, cancellationToken: ct));
                break;
            case DeploySucceeded { SupersededBy: null } deployed:
                // Any stage counts (a canary serves next to the old image): the image runs now, the one before is the way back.
                await conn.ExecuteAsync(new CommandDefinition($"""
                    INSERT INTO {_s}.deployed_images (environment, service, digest) VALUES (@Environment, @Service, @Digest)
                    ON CONFLICT (environment, service) DO UPDATE SET
                        previous_digest = CASE WHEN {_s}.deployed_images.digest = EXCLUDED.digest
                                               THEN {_s}.deployed_images.previous_digest ELSE {_s}.deployed_images.digest END,
                        digest = EXCLUDED.digest, updated_at = now()
                    """, new { deployed.Environment, deployed.Service, deployed.Image.Digest }, tx, cancellationToken: ct));
                if (runId is not null)
                    await conn.ExecuteAsync(new CommandDefinition(
                        $"DELETE FROM {_s}.awaiting_approval WHERE run_id = @runId AND environment = @Environment",
                        new { runId, deployed.Environment }, tx, cancellationToken: ct));
                break;
            case RollbackPerformed { ToDigest: { } back } rollback:
                // Back on the earlier image; the one rolled away from stays protected as the previous one (it may be redeployed).
                await conn.ExecuteAsync(new CommandDefinition($"""
                    INSERT INTO {_s}.deployed_images (environment, service, digest, previous_digest) VALUES (@Environment, @Service, @back, @FromDigest)
                    ON CONFLICT (environment, service) DO UPDATE SET digest = EXCLUDED.digest, previous_digest = EXCLUDED.previous_digest, updated_at = now()
                    """, new { rollback.Environment, rollback.Service, back, rollback.FromDigest }, tx, cancellationToken: ct));
                break;
            case RunFinished when runId is not null:
                // The run will not deploy any more: what it waited with is no longer waiting.
                await conn.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {_s}.awaiting_approval WHERE run_id = @runId", new { runId }, tx, cancellationToken: ct));
                break;
        }
    }

    /// <summary>Every protected digest, whatever repository it is in (a digest names one manifest's content).</summary>
    public async Task<IReadOnlySet<string>> DigestsAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var digests = await conn.QueryAsync<string>(new CommandDefinition($"""
            SELECT digest FROM {_s}.deployed_images
            UNION SELECT previous_digest FROM {_s}.deployed_images WHERE previous_digest IS NOT NULL
            UNION SELECT digest FROM {_s}.awaiting_approval
            """, cancellationToken: ct));
        return digests.ToHashSet(StringComparer.Ordinal);
    }
}
