using Slipway.Contracts;
using Slipway.Reporter.Mail;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>
/// PipelineLib's notify mail as the reporter composes it: only recipients in the operator's allowed domains (a patch set
/// writes <c>notify.email.to</c>), a stable Message-ID per event, the planned subject and body as they are.
/// </summary>
public class NotifyMailTests
{
    private static readonly MailOptions Options = new()
    {
        Host = "127.0.0.1", From = "Slipway <slipway@ci.example.org>", AllowedDomains = ["example.org", "Wikimedia.org"],
    };

    private static NotifyRequested Notice(params string[] to) => new()
    {
        Pipeline = "test", Project = "mediawiki/services/foo", Stage = "unit", Step = "unit-run", Reason = "tests exited with code 1",
        To = to, Subject = "[Pipeline] foo test/unit failed", Body = "Pipeline test for project mediawiki/services/foo failed during\nstage unit.",
    };

    [Fact]
    public void Only_allowed_domains_get_the_mail_and_the_others_are_named()
    {
        var (message, leftOut) = NotifyMail.Compose("ev-1", "run-1", Notice(
            "team@example.org", "Ops <ops@wikimedia.org>", "TEAM@example.org", "victim@elsewhere.test", "a@example.org.evil.test",
            "not an address", "x@sub.example.org", "one@example.org, two@elsewhere.test"), Options);

        Assert.NotNull(message);
        // Display names are the patch set's text: dropped. Each address once, whatever its case.
        // An entry may list several addresses, as PipelineLib joined the entries with ',' for Jenkins' mail step.
        Assert.Equal(["team@example.org", "ops@wikimedia.org", "one@example.org"], message!.To.Mailboxes.Select(m => m.ToString()));
        Assert.Equal(["victim@elsewhere.test", "a@example.org.evil.test", "not an address", "x@sub.example.org", "two@elsewhere.test"], leftOut);
        Assert.Equal("\"Slipway\" <slipway@ci.example.org>", message.From.ToString());
        Assert.Equal("[Pipeline] foo test/unit failed", message.Subject);
        Assert.Equal("Pipeline test for project mediawiki/services/foo failed during\nstage unit.", message.TextBody);
        Assert.Equal("notify.ev-1@slipway", message.MessageId);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
        Assert.Equal("run-1", message.Headers["X-Slipway-Run"]);
    }

    [Fact]
    public void No_allowed_recipient_means_no_mail()
    {
        var (message, leftOut) = NotifyMail.Compose("ev-2", "run-2", Notice("victim@elsewhere.test"), Options);
        Assert.Null(message);
        Assert.Equal(["victim@elsewhere.test"], leftOut);
    }

    [Fact]
    public void A_subject_with_line_breaks_stays_one_header_line()
    {
        var notice = Notice("team@example.org") with { Subject = "failed\r\nBcc: victim@elsewhere.test" };
        var (message, _) = NotifyMail.Compose("ev-3", "run-3", notice, Options);
        Assert.Equal("failed Bcc: victim@elsewhere.test", message!.Subject);
        Assert.Empty(message.Bcc);
        using var written = new MemoryStream();
        message.WriteTo(written);
        var text = System.Text.Encoding.ASCII.GetString(written.ToArray());
        Assert.DoesNotContain("\nBcc:", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Mail_needs_a_sender_and_allowed_domains_once_a_relay_is_named()
    {
        Assert.Empty(new MailOptions().Validate()); // no relay: no mail, nothing to check
        Assert.Equal([
            "Reporter:Mail:From must be set to the sender's address when Reporter:Mail:Host is set",
            "Reporter:Mail:AllowedDomains must name the domains notify mail may go to when Reporter:Mail:Host is set (a patch set chooses the recipients)",
        ], new MailOptions { Host = "smtp.example.org" }.Validate());
        Assert.Equal(["Reporter:Mail:User and Reporter:Mail:Password are set together"],
            Options.Validate().Concat(new MailOptions { Host = "h", From = "a@b.c", AllowedDomains = ["b.c"], User = "u" }.Validate()));
    }
}
