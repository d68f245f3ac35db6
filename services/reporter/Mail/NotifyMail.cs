using MimeKit;
using Slipway.Contracts;

namespace Slipway.Reporter.Mail;

/// <summary>
/// One <c>notify.requested</c> event → the mail PipelineLib's <c>notify.email</c> sent: plain text, the planned subject
/// and body, to the recipients in the operator's allowed domains (the others are named in <see cref="Composed.LeftOut"/>).
/// Its Message-ID is made from the event's id, so a retry after a lost answer sends the same message again, which
/// mail clients show once.
/// </summary>
public static class NotifyMail
{
    public sealed record Composed(MimeMessage? Message, IReadOnlyList<string> LeftOut);

    public static Composed Compose(string eventId, string runId, NotifyRequested notice, MailOptions options)
    {
        var to = new List<MailboxAddress>();
        var leftOut = new List<string>();
        // PipelineLib joined the entries with ',' for Jenkins' mail step, so one entry may itself list several addresses.
        foreach (var raw in notice.To.Take(50).SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Take(100))
        {
            if (Allowed(raw, options.AllowedDomains) is { } address)
            {
                if (!to.Any(a => string.Equals(a.Address, address.Address, StringComparison.OrdinalIgnoreCase))) to.Add(address);
            }
            else leftOut.Add(raw.Length > 200 ? raw[..200] + "…" : raw);
        }
        if (to.Count == 0) return new Composed(null, leftOut);

        var message = new MimeMessage
        {
            MessageId = $"notify.{Token(eventId)}@slipway",
            Subject = OneLine(notice.Subject),
            Body = new TextPart("plain") { Text = notice.Body },
        };
        message.From.Add(MailboxAddress.Parse(options.From!));
        message.To.AddRange(to);
        // RFC 3834: sent by a program, so auto-responders do not answer it.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Headers.Add("X-Slipway-Run", Token(runId));
        return new Composed(message, leftOut);
    }

    /// <summary>
    /// A single plain address (no group, no list) whose domain the operator allows; null otherwise. A display name is
    /// dropped: it is the patch set's text.
    /// </summary>
    internal static MailboxAddress? Allowed(string text, IReadOnlyCollection<string> domains)
    {
        if (text.Length > 320 || !MailboxAddress.TryParse(ParserOptions.Default, text, out var parsed)) return null;
        var address = parsed.Address;
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1) return null;
        var domain = address[(at + 1)..];
        return domains.Any(d => string.Equals(d.Trim(), domain, StringComparison.OrdinalIgnoreCase)) ? new MailboxAddress("", address) : null;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>An id as the characters a Message-ID's left part and a header value can carry as they are.</summary>
    private static string Token(string id) => new(id.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_').Take(200).ToArray());
}
