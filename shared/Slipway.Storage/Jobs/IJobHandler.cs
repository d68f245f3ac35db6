using Npgsql;

namespace Slipway.Storage.Jobs;

/// <summary>
/// Runs one kind of long step. <see cref="ExecuteAsync"/> does the work outside any transaction
/// (it may take minutes) and then records its effects through <see cref="JobCompletion"/>,
/// which commits them together with the job's end, fenced by the lease.
/// The token given to <see cref="ExecuteAsync"/> fires when the lease is lost (another worker took the job, or it
/// could not be renewed before it expired) as well as at shutdown: a handler passes it to every side effect and
/// checks it before each one, and writes effects of its own before the end through <see cref="JobCompletion.EnsureLeaseAsync"/>.
/// </summary>
public interface IJobHandler
{
    string Kind { get; }

    Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct);

    /// <summary>Called when a job has used up its attempts (its worker kept dying or it kept throwing):
    /// record the failure (e.g. emit a failed event) in <paramref name="tx"/>.</summary>
    Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct);

    /// <summary>
    /// Locks, in the job's finishing transaction and before the job's own row, the rows its effects will lock (e.g. its
    /// run's row). Event handlers lock a run before they touch its jobs; the same order here means a finishing job and
    /// an event of its run never wait on each other in a cycle.
    /// </summary>
    Task LockFirstAsync(LeasedJob job, NpgsqlTransaction tx, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Commits a job's effects and its end in one transaction.</summary>
public sealed class JobCompletion(NpgsqlDataSource dataSource, JobQueue queue, LeasedJob job, IJobHandler handler)
{
    /// <summary>How often a commit that lost a deadlock or a serialization conflict is tried again.</summary>
    private const int CommitAttempts = 5;

    public bool Committed { get; private set; }

    /// <summary>
    /// Fences a side effect written before the job's end (e.g. an event emitted at once): throws
    /// <see cref="LeaseLostException"/> unless this worker still holds the lease, and keeps it held until
    /// <paramref name="tx"/> ends.
    /// </summary>
    public async Task EnsureLeaseAsync(NpgsqlTransaction tx, CancellationToken ct = default)
    {
        if (!await queue.HoldsLeaseAsync(tx, job, ct)) throw new LeaseLostException(job);
    }

    /// <summary>Runs <paramref name="effects"/> and marks the job finished in the same transaction;
    /// throws <see cref="LeaseLostException"/> (rolling back) if another worker took the job meanwhile.
    /// A transaction Postgres chose as a deadlock's or a serialization conflict's victim was rolled back whole, so it
    /// is run again (effects included): the work the job did is not lost to another transaction's timing.</summary>
    public async Task CommitAsync(Func<NpgsqlTransaction, Task> effects, bool succeeded = true, string? error = null,
        CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await CommitOnceAsync(effects, succeeded, error, ct);
                return;
            }
            catch (PostgresException e) when (IsConflict(e) && attempt < CommitAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 100) * attempt), ct);
            }
        }
    }

    private async Task CommitOnceAsync(Func<NpgsqlTransaction, Task> effects, bool succeeded, string? error, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await handler.LockFirstAsync(job, tx, ct);
        if (!await queue.FinishAsync(tx, job, succeeded, error, ct))
            throw new LeaseLostException(job);
        await effects(tx);
        await tx.CommitAsync(ct);
        Committed = true;
    }

    private static bool IsConflict(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
}

public sealed class LeaseLostException(LeasedJob job)
    : Exception($"lease of job {job.Id} ({job.Kind}) was lost; another worker owns it now");
