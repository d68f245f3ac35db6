using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Gerrit.Rest;
using Slipway.Reporter.Runs;
using Slipway.Storage.Jobs;

namespace Slipway.Reporter.Comments;

/// <summary>
/// Posts one run comment to Gerrit. Exactly once as the developer sees it: before posting, the
/// change's messages are checked for this comment (same tag, same run link, same kind), so a
/// retry after a crash between posting and recording does not post again. Transient Gerrit
/// errors are retried by the job queue with backoff; a vote refused on a closed change (409) is
/// dropped and the message posted alone; an authentication failure is logged plainly and the job
/// gives up after its attempts instead of looping.
/// </summary>
public sealed class GerritCommentJob(
    RunLedger ledger,
    GerritRestClient gerrit,
    IOptions<ReporterOptions> options,
    ILogger<GerritCommentJob> logger) : IJobHandler
{
    public const string JobKind = "gerrit-comment";

    public string Kind => JobKind;

    public static NewJob For(string runId, CommentKind kind, string eventId, ProgressStep? step = null) =>
        // One run's comments are serial: the start is posted before any progress, and the result last.
        new(JobKind, $"comment/{eventId}", JsonSerializer.Serialize(new Payload(runId, kind, step)), runId, MaxAttempts: 6,
            SerialKey: $"comments/{runId}");

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<Payload>(job.Payload)!;
        var run = await ledger.GetAsync(payload.RunId, ct) ?? throw new InvalidOperationException($"run {payload.RunId} is not recorded");
        if (run.Change is not { } change)
        {
            logger.LogInformation("run {RunId} has no change (branch update): nothing to comment on", run.RunId);
            return;
        }
        var review = ReviewComposer.Compose(run, payload.Kind, options.Value, payload.Step);
        try
        {
            var posted = await gerrit.GetChangeAsync(run.Project, change, withMessages: true, ct);
            if (posted.Messages?.Any(m => m.Tag == review.Tag && ReviewComposer.IsSameComment(m.Message, review.Message!)) == true)
            {
                logger.LogInformation("{Kind} comment of run {RunId} is already on {Project}~{Change}", payload.Kind, run.RunId, run.Project, change);
                return;
            }
            try
            {
                await gerrit.SetReviewAsync(run.Project, change, run.Revision, review, ct);
            }
            catch (GerritRestException e) when (e.Conflict && review.Labels is not null)
            {
                logger.LogInformation("{Project}~{Change} refuses the vote ({Error}); posting the message alone", run.Project, change, e.Message);
                await gerrit.SetReviewAsync(run.Project, change, run.Revision, review with { Labels = null }, ct);
            }
            logger.LogInformation("{Kind} comment of run {RunId} posted on {Project}~{Change}", payload.Kind, run.RunId, run.Project, change);
        }
        catch (GerritRestException e) when (e.AuthenticationFailed)
        {
            logger.LogError("Gerrit refused the reporter's credentials: {Error}. Comments wait until Gerrit:HttpUser/HttpPassword are fixed.", e.Message);
            throw;
        }
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        logger.LogError("giving up on Gerrit comment job {JobId}: {Reason}", job.Id, reason);
        return Task.CompletedTask;
    }

    private sealed record Payload(string RunId, CommentKind Kind, ProgressStep? Step);
}
