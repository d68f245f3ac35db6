using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Config;
using Slipway.Runs;
using Slipway.Pipeline.Planning;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// Deploy steps: record the published image in the configuration registry (one commit per run and
/// environment), then roll it out stage by stage (canary, partial, full), each stage waiting for health.
/// A failed stage puts the previous image back (backend and configuration registry) and reports the rollback.
/// Production waits for an approval: the first attempt asks for it and the step is scheduled again once granted.
/// Rollouts of one service in one environment take turns (<see cref="RolloutGate"/>, across instances); a run triggered
/// before the run whose image was recorded last is superseded: it records and rolls out nothing.
/// </summary>
public sealed class DeployStepPerformer(ConfigRegistry config, IDeploymentBackend backend, DeploymentLedger ledger, RolloutGate gate,
    IOptions<DeployerOptions> options, IOptions<ServiceOwnersOptions> owners, TimeProvider clock, ILogger<DeployStepPerformer> logger) : IStepPerformer
{
    public StepKind Kind => StepKind.Deploy;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Deploy ?? throw new InvalidOperationException($"step {x.Step.Name} has no deploy parameters");
        var service = p.Service ?? ServiceName(x.Trigger.Project);
        var image = PublishedImage(x.Run, p.ImageFrom) ?? throw new InvalidOperationException($"run {x.RunId}: {x.Step.Name} has no published image to deploy");
        // Fail closed: only the run's own project's services (the planner checked too) ...
        if (owners.Value.Refusal(x.Trigger.Project, service) is { } notOwned) return StepResult.Failed(Failure(x, notOwned), notOwned);
        // ... and the deployer's own configuration says which environments need an approver, whatever the plan says.
        if (!p.RequiresApproval && options.Value.RequiresApproval(p.Environment))
            return StepResult.Failed(Failure(x, ApprovalMissingFromPlan(p.Environment)), ApprovalMissingFromPlan(p.Environment));
        if (p.RequiresApproval && !x.Run.Approved(p.Environment))
        {
            await x.EmitOnceAsync(new ApprovalRequested
            {
                RunId = x.RunId, Environment = p.Environment, Service = service, Stage = x.Stage.Name, Step = x.Step.Name, Image = image,
                RequestedAt = x.StartedAt,
            }, "approval");
            logger.LogInformation("run {RunId}: {Environment} rollout of {Service} waits for approval", x.RunId, p.Environment, service);
            return StepResult.Wait();
        }

        var env = options.Value.For(p.Environment);
        var phases = p.Rollout is { Count: > 0 } r ? r : [new RolloutPhase { Stage = RolloutStage.Full, Percentage = 100 }];
        // From here to the rollout's end no other run touches this service in this environment.
        await using var turn = await gate.WaitForTurnAsync(p.Environment, service, ct);
        if (await turn.NewerHeadAsync(x.RunId, x.Run.Started.StartedAt, ct) is { } newer)
            return Superseded(x, p.Environment, service, image, phases[^1], newer);
        var current = await config.GetAsync(p.Environment, service, ct);
        var next = new ServiceValues
        {
            Image = $"{image.Uri}@{image.Digest}", Replicas = env.Replicas, Port = SmokePort(x.Run) ?? current?.Port ?? 8080,
            Probes = new ProbeValues { Readiness = SmokeHealthPath(x.Run) ?? "/_info", Liveness = SmokeHealthPath(x.Run) ?? "/_info" },
            Resources = current?.Resources ?? new ResourceValues(), Env = current?.Env ?? new Dictionary<string, string>(),
        };
        var entry = await ledger.BeginAsync(x.RunId, p.Environment, service, current, next, ct);
        var provenance = new DeploymentProvenance(x.RunId, null, x.Trigger.Change, x.Trigger.Patchset, x.Trigger.Revision,
            x.Trigger.RequestedBy?.Username ?? x.Trigger.RequestedBy?.Name);
        var revision = await config.RecordAsync(p.Environment, service, entry.New, provenance, ct);
        await ledger.SetRevisionAsync(x.RunId, p.Environment, revision, ct);
        await turn.RecordAsync(x.RunId, x.Run.Started.StartedAt, ct);

        var spec = entry.New.ToDeploymentSpec(p.Environment, service);
        var previous = entry.Previous?.ToDeploymentSpec(p.Environment, service);
        var timeout = TimeSpan.FromSeconds(env.TimeoutSeconds);
        for (var i = 0; i < phases.Count; i++)
        {
            var phase = phases[i];
            var started = clock.GetUtcNow();
            await x.EmitAsync(x.Started(new DeployStarted
            {
                Environment = p.Environment, Service = service, RolloutStage = phase.Stage, Percentage = phase.Percentage, Image = image,
            }, started), phase.Stage.ToString());
            var result = await backend.ApplyAsync(spec, previous, phase.Stage, phase.Percentage, timeout, ct);
            if (!result.Healthy)
                return await RollBackAsync(x, p.Environment, service, image, phase, spec, previous, revision, result.Reason ?? "unhealthy", timeout, ct);
            var succeeded = x.Finished(new DeploySucceeded
            {
                Environment = p.Environment, Service = service, RolloutStage = phase.Stage, Percentage = phase.Percentage, Image = image,
                ConfigRevision = revision,
            }, started);
            logger.LogInformation("run {RunId}: {Service} {Stage} in {Environment}: {Instances}", x.RunId, service, phase.Stage, p.Environment,
                string.Join(", ", result.Instances.Select(s => $"{s.Name} {s.Endpoint}")));
            if (i == phases.Count - 1) return StepResult.Succeeded(succeeded);
            await x.EmitAsync(succeeded, phase.Stage.ToString());
        }
        throw new InvalidOperationException("unreachable: a rollout has at least one stage");
    }

    private StepResult Superseded(StepExecution x, string environment, string service, ContainerImage image, RolloutPhase last,
        RolloutGate.Head newer)
    {
        var reason = $"not rolled out: run {newer.RunId}, triggered later ({newer.RunStartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC), " +
            $"already deployed {service} to {environment}; this run's older image would have overwritten it";
        logger.LogWarning("run {RunId}: {Service} in {Environment} superseded by run {Newer}: {Reason}", x.RunId, service, environment,
            newer.RunId, reason);
        return StepResult.Succeeded(x.Finished(new DeploySucceeded
        {
            Environment = environment, Service = service,
            RolloutStage = last.Stage, Percentage = last.Percentage, Image = image, SupersededBy = newer.RunId, SkipReason = reason,
        }));
    }

    public IStepFailedEvent Failure(StepExecution x, string reason)
    {
        var p = x.Step.Deploy!;
        return x.Finished(new DeployFailed
        {
            Environment = p.Environment,
            Service = p.Service ?? ServiceName(x.Trigger.Project), RolloutStage = RolloutStage.Full, Percentage = 100,
            Image = PublishedImage(x.Run, p.ImageFrom), Reason = reason,
        });
    }

    private async Task<StepResult> RollBackAsync(StepExecution x, string environment, string service, ContainerImage image, RolloutPhase phase,
        DeploymentSpec spec, DeploymentSpec? previous, string ownRevision, string reason, TimeSpan timeout, CancellationToken ct)
    {
        logger.LogWarning("run {RunId}: {Service} {Stage} in {Environment} failed: {Reason}; rolling back", x.RunId, service, phase.Stage,
            environment, reason);
        var back = await backend.RollbackAsync(spec, previous, timeout, ct);
        // Its own commit only: a newer run's record of the service is never undone by this run's failure.
        var revert = await config.RevertAsync(environment, service, ownRevision, $"rollout failed: {reason}",
            new DeploymentProvenance(x.RunId, null, x.Trigger.Change, x.Trigger.Patchset, x.Trigger.Revision, "slipway"), ct);
        var now = clock.GetUtcNow();
        await x.EmitAsync(new RollbackPerformed
        {
            Environment = environment, Service = service, Uri = image.Uri, FromDigest = image.Digest,
            ToDigest = previous is null ? null : DigestOf(previous.Image), Reason = RollbackReason.Automatic,
            Detail = $"{phase.Stage} failed: {reason}", PerformedAt = now, ConfigRevision = revert,
        }, "rollback");
        var failed = x.Finished(new DeployFailed
        {
            Environment = environment, Service = service,
            RolloutStage = phase.Stage, Percentage = phase.Percentage, Image = image, RolledBack = back.Healthy,
            Reason = $"{phase.Stage} rollout to {environment} failed: {reason}" + (back.Healthy ? "; rolled back" : $"; rollback also failed: {back.Reason}"),
        });
        return StepResult.Failed(failed, failed.Reason);
    }

    public static string ApprovalMissingFromPlan(string environment) =>
        $"{environment} requires approval (Deployer:Environments:{environment}:RequiresApproval) but the run's plan does not wait for it; " +
        "refused without changing anything (give the builder the same Deployer:Environments settings)";

    /// <summary>
    /// The image of the publish step the plan names (<paramref name="imageFrom"/>, PipelineLib's <c>${&lt;stage&gt;.imageName}</c>);
    /// for plans that name none (older events), the run's last published image.
    /// </summary>
    public static ContainerImage? PublishedImage(RunState run, string? imageFrom) =>
        imageFrom is not null
            ? run.ResultOf<PublishSucceeded>(imageFrom)?.Image
            : run.Progress.Steps.Where(s => s.Step.Kind == StepKind.Publish).Select(s => run.ResultOf<PublishSucceeded>(s.Step.Name)?.Image)
            .LastOrDefault(i => i is not null);

    private static int? SmokePort(RunState run) => run.Progress.Steps.Select(s => s.Step.Smoke?.Port).LastOrDefault(p => p is not null);

    private static string? SmokeHealthPath(RunState run) =>
        run.Progress.Steps.Select(s => s.Step.Smoke?.HealthPath).LastOrDefault(p => p is not null);

    private static string? DigestOf(string imageByDigest) => imageByDigest.LastIndexOf('@') is var at and > 0 ? imageByDigest[(at + 1)..] : null;

    /// <summary>A service name from a Gerrit project, as the planner names it: its short name as a DNS label.</summary>
    public static string ServiceName(string project) => Names.Service(Names.ProjectShortName(project));
}
