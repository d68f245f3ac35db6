using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Config;
using Slipway.Runs;
using Slipway.Messaging;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// <c>slipway rollback SERVICE --env E</c>: revert the environment's last configuration commit and roll the
/// service back to what that restores, then report it (<c>rollback.performed</c>, manual).
/// </summary>
public sealed class ManualRollback(ConfigRegistry config, IDeploymentBackend backend, NpgsqlDataSource db, Outbox outbox,
    RunEventFactory events, IOptions<DeployerOptions> options, TimeProvider clock, ILogger<ManualRollback> logger)
{
    public sealed record Done(string Environment, string Service, string From, string To, string ConfigRevision, IReadOnlyList<InstanceStatus> Instances);

    public async Task<Done?> RunAsync(string environment, string service, string user, CancellationToken ct)
    {
        ConfigRegistry.ValidateName("environment", environment);
        ConfigRegistry.ValidateName("service", service);
        var current = await config.GetAsync(environment, service, ct);
        if (current is null) return null;
        var revert = await config.RevertLastAsync(environment, service, $"manual rollback by {user}",
            new DeploymentProvenance(By: user), ct);
        if (revert is null || await config.GetAsync(environment, service, ct) is not { } restored) return null;

        var timeout = TimeSpan.FromSeconds(options.Value.For(environment).TimeoutSeconds);
        var result = await backend.RollbackAsync(current.ToDeploymentSpec(environment, service), restored.ToDeploymentSpec(environment, service),
            timeout, ct);
        if (!result.Healthy) throw new ConfigRegistryException($"rolled the configuration back ({revert[..12]}) but the rollout failed: {result.Reason}");

        var performed = new RollbackPerformed
        {
            Environment = environment, Service = service, Uri = current.Image.Split('@')[0], FromDigest = current.Image.Split('@')[^1],
            ToDigest = restored.Image.Split('@')[^1], Reason = RollbackReason.Manual, Detail = $"slipway rollback by {user}",
            By = new Account { Username = user }, PerformedAt = clock.GetUtcNow(), ConfigRevision = revert,
        };
        var envelope = EventEnvelope.Create(performed, events.Source, subject: $"{environment}/{service}",
            id: DeterministicId.From("rollback", environment, service, revert));
        await using (var conn = await db.OpenConnectionAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await outbox.AddAsync(tx, outbox.Topics.PipelineEvents, $"{environment}/{service}", envelope, ct);
            await tx.CommitAsync(ct);
        }
        logger.LogInformation("{Service} in {Environment} rolled back by {User}: {From} -> {To}", service, environment, user, current.Image, restored.Image);
        return new Done(environment, service, current.Image, restored.Image, revert, result.Instances);
    }
}
