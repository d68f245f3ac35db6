using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Deployer.ChartsChange;
using Slipway.Deployer.Config;
using Slipway.Runs;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// Promote steps (PipelineLib's <c>promote</c>): the run's published image recorded in the configuration registry
/// for each listed environment, keeping that environment's other values. Nothing is rolled out: as in PipelineLib,
/// promoting updates the deployment configuration and leaves the rollout to its own process. An environment that needs
/// approval (production by default) is written only after an approver approved it. Like a deploy it takes the environment's
/// turn (<see cref="RolloutGate"/>) and leaves alone an environment where a run triggered later already recorded its image.
/// When the operator configured <c>Deployer:Promote</c>, it then opens the change in the charts project for reviewers, as
/// PipelineLib did (<see cref="ChartsChangeProposer"/>), and emits <see cref="PromoteChangeOpened"/>.
/// </summary>
public sealed class PromoteStepPerformer(ConfigRegistry config, RolloutGate gate, IOptions<DeployerOptions> options, IOptions<ServiceOwnersOptions> owners,
    ChartsChangeProposer charts, ILogger<PromoteStepPerformer> logger) : IStepPerformer
{
    public StepKind Kind => StepKind.Promote;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Promote ?? new PromoteParams { Environments = [] };
        var chart = p.Chart ?? DeployStepPerformer.ServiceName(x.Trigger.Project);
        // Promoting writes an environment's configuration, so an environment that needs approval waits for it, as a deploy does;
        // one the deployer says needs approval but the plan does not wait for is refused (fail closed).
        if (owners.Value.Refusal(x.Trigger.Project, Slipway.Pipeline.Planning.Names.Service(chart)) is { } notOwned) return Failed(x, chart, notOwned);
        var needed = p.RequiresApprovalFor ?? [];
        if (p.Environments.FirstOrDefault(e => options.Value.RequiresApproval(e) && !needed.Contains(e)) is { } unguarded)
            return Failed(x, chart, DeployStepPerformer.ApprovalMissingFromPlan(unguarded));
        var waiting = needed.Where(e => !x.Run.Approved(e)).ToList();
        if (waiting.Count > 0)
        {
            var candidate = DeployStepPerformer.PublishedImage(x.Run, p.ImageFrom);
            foreach (var environment in waiting)
                await x.EmitOnceAsync(new ApprovalRequested
                {
                    RunId = x.RunId, Environment = environment, Service = chart, Stage = x.Stage.Name, Step = x.Step.Name, Image = candidate,
                    RequestedAt = x.StartedAt,
                }, $"approval-{environment}");
            logger.LogInformation("run {RunId}: promoting {Chart} into {Environments} waits for approval", x.RunId, chart, string.Join(", ", waiting));
            return StepResult.Wait();
        }
        await x.EmitAsync(x.Started(new PromoteStarted { Chart = chart, Environments = p.Environments }));
        if (DeployStepPerformer.PublishedImage(x.Run, p.ImageFrom) is not { } image) return Failed(x, chart, "no image was published before this step");
        var revisions = new Dictionary<string, string>();
        var superseded = new Dictionary<string, string>();
        try
        {
            foreach (var environment in p.Environments)
            {
                // The turn of the values file it writes (the one a deploy of that service writes too).
                await using var turn = await gate.WaitForTurnAsync(environment, chart, ct);
                if (await turn.NewerHeadAsync(x.RunId, x.Run.Started.StartedAt, ct) is { } newer)
                {
                    superseded[environment] = $"not recorded: run {newer.RunId}, triggered later ({newer.RunStartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC), " +
                        $"already recorded its image for {environment}; this run's older image would have overwritten it";
                    logger.LogWarning("run {RunId}: promoting {Chart} into {Environment} superseded by run {Newer}", x.RunId, chart, environment, newer.RunId);
                    continue;
                }
                var current = await config.GetAsync(environment, chart, ct);
                var values = (current ?? new ServiceValues { Image = "" }) with { Image = $"{image.Uri}@{image.Digest}" };
                revisions[environment] = await config.RecordAsync(environment, chart, values,
                    new DeploymentProvenance(x.RunId, null, x.Trigger.Change, x.Trigger.Patchset, x.Trigger.Revision,
                        x.Trigger.RequestedBy?.Username), ct);
                await turn.RecordAsync(x.RunId, x.Run.Started.StartedAt, ct);
            }
        }
        catch (Exception e) when (e is ArgumentException or ConfigRegistryException)
        {
            return Failed(x, chart, e.Message);
        }
        // An older run whose every environment a newer run already has proposes nothing either.
        if (charts.Enabled && !(superseded.Count > 0 && revisions.Count == 0))
        {
            try
            {
                await ProposeChartsChangeAsync(x, chart, p.Environments, image, ct);
            }
            catch (ChartsChangeException e) when (e.Permanent)
            {
                return Failed(x, chart, "charts change: " + e.Message);
            }
        }
        return StepResult.Succeeded(x.Finished(new PromoteSucceeded
        {
            Chart = chart, Image = image, ConfigRevisions = revisions, Superseded = superseded.Count > 0 ? superseded : null,
        }));
    }

    /// <summary>Opens (or finds) the charts change; a transient failure throws, so the job is retried.</summary>
    private async Task ProposeChartsChangeAsync(StepExecution x, string chart, IReadOnlyList<string> environments, ContainerImage image, CancellationToken ct)
    {
        if (image.Tags.Count == 0) throw new ChartsChangeException("the published image has no tag to promote", permanent: true);
        var version = image.Tags[0];
        var change = await charts.ProposeAsync(new ChartsChangeRequest(x.RunId, x.Step.Name, chart, environments, version, $"{image.Uri}:{version}@{image.Digest}",
            x.Trigger.Project, x.Trigger.Change, x.Trigger.Revision, x.Run.Started.StartedAt), ct);
        if (change is null) return;
        await x.EmitOnceAsync(new PromoteChangeOpened
        {
            Stage = x.Stage.Name, Step = x.Step.Name, Chart = chart, Version = version, Project = charts.Project, Branch = charts.Branch,
            Change = change.Number, ChangeId = change.ChangeId, Url = change.Url, Files = change.Files, AlreadyOpen = change.AlreadyOpen,
        }, "charts-change");
    }

    public IStepFailedEvent Failure(StepExecution x, string reason) => FailedEvent(x, x.Step.Promote?.Chart ?? DeployStepPerformer.ServiceName(x.Trigger.Project), reason);

    private static StepResult Failed(StepExecution x, string chart, string reason) => StepResult.Failed(FailedEvent(x, chart, reason), reason);

    private static PromoteFailed FailedEvent(StepExecution x, string chart, string reason) =>
        x.Finished(new PromoteFailed { Chart = chart, Reason = reason });
}
