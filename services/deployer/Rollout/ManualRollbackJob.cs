using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Deployer.Config;
using Slipway.Messaging;
using Slipway.Storage.Jobs;

namespace Slipway.Deployer.Rollout;

/// <summary>
/// Carries out one manual rollback request (<see cref="ManualRollbackRequests"/>) as a job: a deployer that stops half
/// way (crash, restart) leaves the job's lease to expire, and the next lease finishes the rollback: the registry commit
/// the request made is found by its trailer (never a second walk back), the rollout's stages are applied again, and the
/// answer and the <c>rollback.performed</c> event are committed with the job's end, once.
/// </summary>
public sealed class ManualRollbackJob(ManualRollback rollback, ManualRollbackRequests requests, Outbox outbox, ILogger<ManualRollbackJob> logger)
    : IJobHandler
{
    public const string JobKind = "manual-rollback";

    public string Kind => JobKind;

    // A failure that is not the rollback's own (git or the engine unreachable) is tried again; 5 attempts ≈ 30 s of backoff.
    public static NewJob For(string requestId) =>
        new(JobKind, $"rollback/{requestId}", JsonSerializer.Serialize(new Payload(requestId)), MaxAttempts: 5);

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var id = JsonSerializer.Deserialize<Payload>(job.Payload)!.RequestId;
        var request = await requests.FindAsync(id, ct) ?? throw new InvalidOperationException($"rollback request {id} is not recorded");
        if (request.Status is not null) return; // answered before the job's end was recorded
        ManualRollback.Outcome? outcome;
        try
        {
            outcome = await rollback.RunAsync(request.Environment, request.Service, request.RequestedBy, request.AllAtOnce, id, ct);
        }
        catch (Exception e) when (e is ConfigRegistryException or ArgumentException)
        {
            logger.LogWarning("rollback request {Id} of {Service} in {Environment} failed: {Message}", id, request.Service, request.Environment, e.Message);
            await completion.CommitAsync(tx => requests.FinishAsync(tx, id, 400, new { error = e.Message }, ct), succeeded: false, error: e.Message, ct);
            return;
        }
        await completion.CommitAsync(async tx =>
        {
            if (outcome is null)
                await requests.FinishAsync(tx, id, 409, new { error = $"{request.Service} in {request.Environment} has no earlier version to roll back to" }, ct);
            else if (outcome.Done.Superseded is { } why)
                await requests.FinishAsync(tx, id, 409, new { error = why, done = outcome.Done }, ct);
            else
            {
                await requests.FinishAsync(tx, id, 200, outcome.Done, ct);
                await outbox.AddAsync(tx, outbox.Topics.PipelineEvents, $"{request.Environment}/{request.Service}", outcome.Performed!, ct);
            }
        }, ct: ct);
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        var id = JsonSerializer.Deserialize<Payload>(job.Payload)!.RequestId;
        logger.LogError("rollback request {Id} failed for good: {Reason}", id, reason);
        return requests.FinishAsync(tx, id, 500, new { error = $"the rollback failed after {job.MaxAttempts} attempts: {reason}" }, ct);
    }

    private sealed record Payload(string RequestId);
}
