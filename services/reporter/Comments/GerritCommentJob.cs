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
/// retry after a crash between posting and recording, or after an answer lost on the way back,
/// does not post again. While Gerrit is down (5xx, 429, timeouts, refused connections) the job
/// waits for it as long as it takes, trying again with capped exponential backoff and holding its
/// lease; the wait shows on the run's status page and in <see cref="GerritWriteTelemetry"/>. A
/// vote refused on a closed change (409) is dropped and the message posted alone; any other
/// refusal that retrying cannot fix (4xx) fails the job at once with Gerrit's reason; an
/// authentication failure is logged plainly and the job gives up after its attempts.
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
            await PostUntilGerritAnswersAsync(run, change, payload.Kind, review, ct);
        }
        catch (GerritRestException e) when (e.AuthenticationFailed)
        {
            logger.LogError("Gerrit refused the reporter's credentials: {Error}. Comments wait until Gerrit:HttpUser/HttpPassword are fixed.", e.Message);
            throw;
        }
        catch (GerritRestException e) when (!e.Transient)
        {
            // 400, 404, 409 without a vote, 422: the same request will be refused again; say why, once.
            logger.LogError("Gerrit refuses the comment for good: {Error} ({Kind} comment of run {RunId} on {Project}~{Change})",
                e.Message, payload.Kind, run.RunId, run.Project, change);
            await completion.CommitAsync(async tx =>
            {
                await ledger.ClearGerritWaitAsync(tx, run.RunId, ct);
                await OnGaveUpAsync(job, e.Message, tx, ct);
            }, succeeded: false, error: e.Message, ct);
            return;
        }
        await completion.CommitAsync(tx => ledger.ClearGerritWaitAsync(tx, run.RunId, ct), ct: ct);
    }

    private async Task PostUntilGerritAnswersAsync(RunView run, int change, CommentKind kind, ReviewInput review, CancellationToken ct)
    {
        var o = options.Value;
        var delay = TimeSpan.FromSeconds(o.GerritRetryInitialSeconds);
        var waiting = false;
        try
        {
            for (var tries = 1; ; tries++)
            {
                try
                {
                    await PostOnceAsync(run, change, kind, review, ct);
                    return;
                }
                catch (GerritRestException e) when (e.Transient)
                {
                    if (!waiting) GerritWriteTelemetry.StartedWaiting();
                    waiting = true;
                    GerritWriteTelemetry.Retries.Add(1);
                    var pause = delay * (0.8 + Random.Shared.NextDouble() * 0.2);
                    logger.LogWarning("Gerrit did not take the {Kind} comment of run {RunId} ({Error}); try {Tries} failed, trying again in {Delay:F1} s",
                        kind, run.RunId, e.Message, tries, pause.TotalSeconds);
                    await RecordWaitAsync(run.RunId, e.Message, ct);
                    await Task.Delay(pause, ct);
                    delay = TimeSpan.FromSeconds(Math.Min(o.GerritRetryMaxSeconds, delay.TotalSeconds * 2));
                }
            }
        }
        finally
        {
            if (waiting) GerritWriteTelemetry.StoppedWaiting();
        }
    }

    private async Task PostOnceAsync(RunView run, int change, CommentKind kind, ReviewInput review, CancellationToken ct)
    {
        var posted = await gerrit.GetChangeAsync(run.Project, change, withMessages: true, ct);
        if (posted.Messages?.Any(m => m.Tag == review.Tag && ReviewComposer.IsSameComment(m.Message, review.Message!)) == true)
        {
            logger.LogInformation("{Kind} comment of run {RunId} is already on {Project}~{Change}", kind, run.RunId, run.Project, change);
            return;
        }
        var revision = ReviewedRevision(run);
        try
        {
            await gerrit.SetReviewAsync(run.Project, change, revision, review, ct);
        }
        catch (GerritRestException e) when (e.Conflict && review.Labels is not null)
        {
            logger.LogInformation("{Project}~{Change} refuses the vote ({Error}); posting the message alone", run.Project, change, e.Message);
            await gerrit.SetReviewAsync(run.Project, change, revision, review with { Labels = null }, ct);
        }
        logger.LogInformation("{Kind} comment of run {RunId} posted on {Project}~{Change}", kind, run.RunId, run.Project, change);
    }

    /// <summary>
    /// The revision a run's comments go on. A merge run's revision is the branch tip the merge produced, which is a merge
    /// commit (no patch set of the change, so Gerrit answers 404) whenever the merge was not a fast-forward; its comments
    /// go on the merged patch set, by number. Other runs built a patch set's own commit.
    /// </summary>
    internal static string ReviewedRevision(RunView run) =>
        run.TriggerKind == "merge" && run.Patchset is int patchset ? patchset.ToString(System.Globalization.CultureInfo.InvariantCulture) : run.Revision;

    /// <summary>The status page shows the wait; a database hiccup here must not end the wait.</summary>
    private async Task RecordWaitAsync(string runId, string error, CancellationToken ct)
    {
        try { await ledger.RecordGerritWaitAsync(runId, error, ct); }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("could not record that run {RunId} waits for Gerrit: {Error}", runId, e.Message);
        }
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        logger.LogError("giving up on Gerrit comment job {JobId}: {Reason}", job.Id, reason);
        return Task.CompletedTask;
    }

    private sealed record Payload(string RunId, CommentKind Kind, ProgressStep? Step);
}
