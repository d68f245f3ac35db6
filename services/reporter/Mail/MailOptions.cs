using Slipway.Hosting;

namespace Slipway.Reporter.Mail;

/// <summary>
/// Configuration section <c>Reporter:Mail</c>: the SMTP server PipelineLib's <c>notify.email</c> is sent through. Unset
/// <see cref="Host"/>: no mail (the <c>notify.requested</c> event is still emitted for any other consumer).
/// </summary>
public sealed class MailOptions : IValidatableOptions
{
    public const string Section = "Reporter:Mail";

    /// <summary>The SMTP server (the operator's relay). Unset: notify sends no mail.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>
    /// <c>StartTls</c> (required), <c>SslOnConnect</c> (port 465), <c>StartTlsWhenAvailable</c> (the default) or <c>None</c>
    /// (plain text; only for a relay on the same host).
    /// </summary>
    public string Security { get; set; } = "StartTlsWhenAvailable";

    /// <summary>SMTP AUTH user and password, when the relay asks for them.</summary>
    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender (<c>From</c>), e.g. <c>Slipway &lt;slipway@ci.example.org&gt;</c>.</summary>
    public string? From { get; set; }

    /// <summary>
    /// The recipients' domains mail may go to (exact, case-insensitive). A patch set writes <c>notify.email.to</c>, so
    /// without this list anyone could use the operator's relay to mail anyone; other recipients are left out and logged.
    /// </summary>
    public List<string> AllowedDomains { get; set; } = [];

    /// <summary>One SMTP conversation (connect, send) is given up after this long and tried again later.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    public IEnumerable<string> Validate()
    {
        if (!Enabled) yield break;
        if (Port is < 1 or > 65535) yield return "Reporter:Mail:Port must be between 1 and 65535";
        if (Security is not ("StartTls" or "SslOnConnect" or "StartTlsWhenAvailable" or "None"))
            yield return "Reporter:Mail:Security must be StartTls, SslOnConnect, StartTlsWhenAvailable or None";
        if (string.IsNullOrWhiteSpace(From) || !MimeKit.MailboxAddress.TryParse(From, out _))
            yield return "Reporter:Mail:From must be set to the sender's address when Reporter:Mail:Host is set";
        if (AllowedDomains.Count == 0)
            yield return "Reporter:Mail:AllowedDomains must name the domains notify mail may go to when Reporter:Mail:Host is set " +
                "(a patch set chooses the recipients)";
        if (AllowedDomains.Any(d => string.IsNullOrWhiteSpace(d) || d.Contains('@') || d.Any(char.IsWhiteSpace)))
            yield return "Reporter:Mail:AllowedDomains holds domain names only (e.g. example.org)";
        if (string.IsNullOrEmpty(User) != string.IsNullOrEmpty(Password))
            yield return "Reporter:Mail:User and Reporter:Mail:Password are set together";
        if (TimeoutSeconds is < 1 or > 600) yield return "Reporter:Mail:TimeoutSeconds must be between 1 and 600";
    }
}
