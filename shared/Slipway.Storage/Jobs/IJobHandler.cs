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
}

/// <summary>Commits a job's effects and its end in one transaction.</summary>
public sealed class JobCompletion(NpgsqlDataSource dataSource, JobQueue queue, LeasedJob job)
{
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
    /// throws <see cref="LeaseLostException"/> (rolling back) if another worker took the job meanwhile.</summary>
    public async Task CommitAsync(Func<NpgsqlTransaction, Task> effects, bool succeeded = true, string? error = null,
        CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await queue.FinishAsync(tx, job, succeeded, error, ct))
            throw new LeaseLostException(job);
        await effects(tx);
        await tx.CommitAsync(ct);
        Committed = true;
    }
}

public sealed class LeaseLostException(LeasedJob job)
    : Exception($"lease of job {job.Id} ({job.Kind}) was lost; another worker owns it now");
