using Npgsql;
using Slipway.Contracts;

namespace Slipway.Reporter.Environments;

/// <summary>
/// The deployer's events that change what runs where or what waits for an approver, recorded for the environments
/// page in the same transaction as the rest of the event's handling (the reporter's inbox makes it once).
/// </summary>
public sealed class EnvironmentEvents(EnvironmentLedger ledger)
{
    public async Task FollowAsync(EventEnvelope envelope, NpgsqlTransaction tx, CancellationToken ct)
    {
        var runId = envelope.RunId;
        switch (envelope.Event())
        {
            case DeploySucceeded { RolloutStage: RolloutStage.Full } deployed when runId is not null:
                await ledger.DeployedAsync(tx, envelope.Id, runId, deployed, ct);
                break;
            case PromoteSucceeded promoted when runId is not null:
                await ledger.PromotedAsync(tx, envelope.Id, runId, promoted, ct);
                break;
            case RollbackPerformed rollback when rollback.ToDigest is not null:
                await ledger.RolledBackAsync(tx, envelope.Id, rollback, ct);
                break;
            case ApprovalRequested requested:
                await ledger.RequestedAsync(tx, requested, ct);
                break;
            case ApprovalGranted granted:
                await ledger.GrantedAsync(tx, granted, ct);
                break;
            case ApprovalRefused refused:
                await ledger.RefusedAsync(tx, refused, ct);
                break;
            case RunFinished when runId is not null:
                await ledger.RunEndedAsync(tx, runId, ct);
                break;
        }
    }
}
