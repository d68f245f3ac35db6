using System.Text.Json;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage.Jobs;

namespace Slipway.Reporter.Mail;

/// <summary>
/// Sends one <c>notify.requested</c> as mail through the operator's SMTP relay (<see cref="MailOptions"/>). The job is
/// recorded in the transaction that consumed the event (keyed by its id), so each event is mailed once; an SMTP server
/// that is down or answers 4xx is tried again with the job queue's backoff (12 attempts, ≈ 2 hours in all). A crash
/// after the relay accepted the mail and before the job's end is recorded sends it again with the same Message-ID
/// (SMTP has no way to ask whether a message was taken): mail clients show it once. A 5xx answer (e.g. a recipient
/// the relay refuses) fails the job at once with the relay's reason.
/// </summary>
public sealed class NotifyMailJob(IOptions<MailOptions> options, ILogger<NotifyMailJob> logger) : IJobHandler
{
    public const string JobKind = "notify-mail";

    public string Kind => JobKind;

    public static NewJob For(string eventId, string runId, NotifyRequested notice) =>
        new(JobKind, $"mail/{eventId}", JsonSerializer.Serialize(new Payload(eventId, runId, notice)), runId, MaxAttempts: 12);

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<Payload>(job.Payload)!;
        var o = options.Value;
        var (message, leftOut) = NotifyMail.Compose(payload.EventId, payload.RunId, payload.Notice, o);
        if (leftOut.Count > 0)
            logger.LogWarning("run {RunId}: notify mail of stage {Stage} leaves out {Recipients}: not in Reporter:Mail:AllowedDomains",
                payload.RunId, payload.Notice.Stage, string.Join(", ", leftOut));
        if (message is null)
        {
            await completion.CommitAsync(_ => Task.CompletedTask, ct: ct);
            return;
        }
        try
        {
            await SendAsync(message, o, ct);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500)
        {
            var reason = $"the mail relay refused it: {(int)e.StatusCode} {e.Message}";
            logger.LogError("run {RunId}: notify mail of stage {Stage} not sent, for good: {Reason}", payload.RunId, payload.Notice.Stage, reason);
            await completion.CommitAsync(_ => Task.CompletedTask, succeeded: false, error: reason, ct);
            return;
        }
        logger.LogInformation("run {RunId}: notify mail of stage {Stage} sent to {Count} recipient(s) ({MessageId})",
            payload.RunId, payload.Notice.Stage, message.To.Count, message.MessageId);
        await completion.CommitAsync(_ => Task.CompletedTask, ct: ct);
    }

    private static async Task SendAsync(MimeKit.MimeMessage message, MailOptions o, CancellationToken ct)
    {
        using var client = new SmtpClient { Timeout = o.TimeoutSeconds * 1000 };
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(TimeSpan.FromSeconds(o.TimeoutSeconds * 2));
        var security = o.Security switch
        {
            "StartTls" => SecureSocketOptions.StartTls,
            "SslOnConnect" => SecureSocketOptions.SslOnConnect,
            "None" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        await client.ConnectAsync(o.Host!, o.Port, security, bounded.Token);
        if (!string.IsNullOrEmpty(o.User)) await client.AuthenticateAsync(o.User, o.Password!, bounded.Token);
        await client.SendAsync(message, bounded.Token);
        await client.DisconnectAsync(quit: true, bounded.Token);
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize<Payload>(job.Payload)!;
        logger.LogError("run {RunId}: notify mail of stage {Stage} not sent after {Attempts} attempts: {Reason}",
            payload.RunId, payload.Notice.Stage, job.MaxAttempts, reason);
        return Task.CompletedTask;
    }

    private sealed record Payload(string EventId, string RunId, NotifyRequested Notice);
}
