using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Config;
using Slipway.Runs;
using Slipway.Messaging;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// <c>slipway rollback SERVICE --env E</c>: put the service back on the last version deployed before the current one
/// that was not itself rolled back (the configuration registry's history, <see cref="RollbackTarget"/>), roll it out in
/// the environment's stages (canary, partial, full) unless asked all at once, and report it (<c>rollback.performed</c>, manual).
/// Who may ask is the API's business (an approver's token where the environment needs approval). Run by
/// <see cref="ManualRollbackJob"/>, so a rollback a crash interrupted is finished after the restart: the registry commit
/// carries the request's id, and a request that made its commit already rolls that one out instead of walking back again.
/// </summary>
public sealed class ManualRollback(ConfigRegistry config, IDeploymentBackend backend, RolloutGate gate,
    RunEventFactory events, IOptions<DeployerOptions> options, TimeProvider clock, ILogger<ManualRollback> logger)
{
    /// <summary>What was done. <paramref name="Superseded"/>: this request's commit was made before (the deployer stopped after
    /// it) and the service changed since, so nothing was rolled out again; the other fields describe the commit.</summary>
    public sealed record Done(string Environment, string Service, string From, string To, string ConfigRevision, IReadOnlyList<string> Stages,
        IReadOnlyList<InstanceStatus> Instances, string? Superseded = null);

    /// <summary>The rollback done, and its <c>rollback.performed</c> event for the caller to commit (none when superseded).</summary>
    public sealed record Outcome(Done Done, EventEnvelope? Performed);

    public async Task<Outcome?> RunAsync(string environment, string service, string user, bool allAtOnce, string requestId, CancellationToken ct)
    {
        ConfigRegistry.ValidateName("environment", environment);
        ConfigRegistry.ValidateName("service", service);
        var reason = $"manual rollback by {user}" + (allAtOnce ? " (all at once)" : "");
        // Never in the middle of a run's rollout of the same service and environment.
        await using var turn = await gate.WaitForTurnAsync(environment, service, ct);
        var rollback = await config.RollBackAsync(environment, service, reason, new DeploymentProvenance(By: user), ct, requestId);
        if (rollback is null) return null;
        if (rollback.Superseded is { } latest)
        {
            var why = $"rollback request {requestId} committed {rollback.Sha[..12]} ({rollback.From.Image} -> {rollback.To.Image}) before the deployer " +
                $"stopped; {service} in {environment} changed since (now {latest[..12]}), so it was not rolled out again";
            logger.LogWarning("{Service} in {Environment}: {Why}", service, environment, why);
            return new Outcome(new Done(environment, service, rollback.From.Image, rollback.To.Image, rollback.Sha, [], [], why), null);
        }
        if (rollback.Resumed)
            logger.LogWarning("{Service} in {Environment}: rollback request {Request} resumes its commit {Commit} ({From} -> {To})", service,
                environment, requestId, rollback.Sha, rollback.From.Image, rollback.To.Image);

        var restored = rollback.To.ToDeploymentSpec(environment, service);
        var current = rollback.From.ToDeploymentSpec(environment, service);
        var timeout = TimeSpan.FromSeconds(options.Value.For(environment).TimeoutSeconds);
        var percentages = allAtOnce ? [100] : options.Value.RolloutPercentages(environment);
        var stages = new List<string>();
        RolloutResult? result = null;
        for (var i = 0; i < percentages.Count; i++)
        {
            var stage = i == percentages.Count - 1 ? RolloutStage.Full : i == 0 ? RolloutStage.Canary : RolloutStage.Partial;
            result = await backend.ApplyAsync(restored, current, stage, percentages[i], timeout, ct);
            if (!result.Healthy)
            {
                // The version rolled back to is unhealthy: put the one that ran back, and record that in the registry too.
                await backend.RollbackAsync(restored, current, timeout, ct);
                await config.RevertAsync(environment, service, rollback.Sha, $"rollback to {rollback.To.Image} failed at {stage}: {result.Reason}",
                    new DeploymentProvenance(By: "slipway"), ct);
                throw new ConfigRegistryException(
                    $"rolling {service} in {environment} back to {rollback.To.Image} failed at {stage} ({result.Reason}); {rollback.From.Image} was put back");
            }
            stages.Add(stage.ToString().ToLowerInvariant());
            logger.LogInformation("{Service} in {Environment}: rollback {Stage} ({Percentage}%) healthy", service, environment, stage, percentages[i]);
        }

        var performed = new RollbackPerformed
        {
            Environment = environment, Service = service, Uri = rollback.From.Image.Split('@')[0], FromDigest = rollback.From.Image.Split('@')[^1],
            ToDigest = rollback.To.Image.Split('@')[^1], Reason = RollbackReason.Manual,
            Detail = $"slipway rollback by {user}: {string.Join(", ", stages)}", By = new Account { Username = user },
            PerformedAt = clock.GetUtcNow(), ConfigRevision = rollback.Sha,
        };
        var envelope = EventEnvelope.Create(performed, events.Source, subject: $"{environment}/{service}",
            id: DeterministicId.From("rollback", environment, service, rollback.Sha));
        logger.LogInformation("{Service} in {Environment} rolled back by {User}: {From} -> {To}", service, environment, user,
            rollback.From.Image, rollback.To.Image);
        return new Outcome(new Done(environment, service, rollback.From.Image, rollback.To.Image, rollback.Sha, stages, result!.Instances), envelope);
    }
}
