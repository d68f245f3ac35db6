using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Messaging;

namespace Slipway.Deployer.Approvals;

/// <summary>
/// The deployer's consumer: pipeline events go to the run tracking (which schedules deploy steps);
/// Gerrit comments that are approval commands approve the change's run waiting for that environment.
/// </summary>
public sealed class DeployerEventHandler(StageEventHandler stages, RunStateStore runs, ApprovalDesk desk) : IIntegrationEventHandler
{
    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        if (envelope.Event() is not GerritEvent e)
        {
            await stages.HandleAsync(envelope, context, ct);
            return;
        }
        if (e.Type != "comment-added" || e.Project is null || e.ChangeNumber is not { } change) return;
        if (desk.EnvironmentIn(e.Comment) is not { } environment) return;
        foreach (var (runId, _) in await runs.OpenRunsOfChangeAsync(context.Transaction, e.Project, change, ct))
            await desk.DecideAsync(context.Transaction, runId, environment, e.Author ?? new Account(), ApprovalChannel.GerritComment,
                e.Comment, ct);
    }
}
