using System.Text.RegularExpressions;
using Slipway.Hosting;

namespace Slipway.Publisher.Triggers;

/// <summary>
/// Configuration section <c>Pipeline</c>, key <c>Triggers</c>: the downstream jobs PipelineLib's <c>trigger</c> may ask
/// for (PipelineLib's allowed trigger jobs), each with the projects allowed to ask (<c>Pipeline:Triggers:&lt;job&gt;:Projects</c>)
/// and, optionally, the webhook the request is POSTed to (<c>Pipeline:Triggers:&lt;job&gt;:Url</c>); without one the
/// <c>trigger.requested</c> event is the whole request.
/// </summary>
public sealed partial class TriggerOptions : IValidatableOptions
{
    public const string Section = "Pipeline";

    public Dictionary<string, TriggerJob> Triggers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Time limit of one webhook call. Default 10 s.</summary>
    public int WebhookTimeoutSeconds { get; set; } = 10;

    public sealed class TriggerJob
    {
        public string? Url { get; set; }

        public List<string> Projects { get; set; } = [];
    }

    public IEnumerable<string> Validate()
    {
        if (WebhookTimeoutSeconds is < 1 or > 300) yield return "Pipeline:WebhookTimeoutSeconds must be 1..300";
        foreach (var (job, t) in Triggers)
        {
            if (!JobName().IsMatch(job)) yield return $"Pipeline:Triggers: '{job}' is not a job name (letters, digits, '.', '_', '-', at most 128)";
            if (t.Url is not null && (!Uri.TryCreate(t.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || !string.IsNullOrEmpty(uri.UserInfo)))
                yield return $"Pipeline:Triggers:{job}:Url must be an absolute http(s) URL without user information";
            if (t.Projects.Any(p => string.IsNullOrWhiteSpace(p) || p.Length > 255 || p.Any(char.IsControl)))
                yield return $"Pipeline:Triggers:{job}:Projects must list Gerrit project names";
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}\z")]
    private static partial Regex JobName();
}
