using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Gerrit.Events;
using Slipway.Gerrit.Rest;
using Slipway.Gerrit;

namespace Slipway.GerritGateway;

/// <summary>
/// A webhook is an unauthenticated channel (a secret in a URL, no signature: gerrit.md §5), so a <c>comment-added</c>
/// that arrives by webhook is confirmed against Gerrit before it is published: the change's messages are read through
/// the REST API with the gateway's own read credentials, and the event counts only when Gerrit has that exact message
/// on that change and patch set, by the account with that username, written recently (an old comment replayed with a
/// new time is not confirmed). A confirmed event carries the author's account id and the message's tag from Gerrit.
/// </summary>
public sealed class WebhookCommentConfirmer
{
    private readonly GerritRestClient? _rest;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _clock;

    public WebhookCommentConfirmer(IOptions<GerritOptions> gerrit, IOptions<GatewayOptions> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        var g = gerrit.Value;
        if (!string.IsNullOrWhiteSpace(g.Url) && !string.IsNullOrWhiteSpace(g.HttpUser) && !string.IsNullOrWhiteSpace(g.HttpPassword))
            _rest = new GerritRestClient(new HttpClient { Timeout = TimeSpan.FromSeconds(15) }, g.Url, g.HttpUser, g.HttpPassword);
    }

    public abstract record Outcome
    {
        /// <summary>Gerrit has the message: the event to publish, marked confirmed.</summary>
        public sealed record Confirmed(GerritEvent Event) : Outcome;

        /// <summary>Gerrit does not have it (forged, altered or replayed) or it cannot be checked: not published.</summary>
        public sealed record Refused(string Why) : Outcome;

        /// <summary>Gerrit could not be asked now: the webhooks plugin should retry.</summary>
        public sealed record Unavailable(string Why) : Outcome;
    }

    public async Task<Outcome> ConfirmAsync(GerritEvent e, CancellationToken ct)
    {
        if (_rest is null) return new Outcome.Refused("the gateway has no Gerrit REST credentials (Gerrit:HttpUser, Gerrit:HttpPassword) to confirm comments with; the SSH stream delivers them");
        if (e.Project is null || e.ChangeNumber is not { } number || e.Comment is null || e.Author?.Username is not { } username)
            return new Outcome.Refused("a comment-added needs the project, change number, comment and author username to be confirmed");
        ChangeInfo change;
        try { change = await _rest.GetChangeMessagesAsync(e.Project, number, ct); }
        catch (GerritRestException x) when (x.Status == System.Net.HttpStatusCode.NotFound) { return new Outcome.Refused($"change {number} of {e.Project} is not in Gerrit"); }
        catch (GerritRestException x) { return new Outcome.Unavailable($"Gerrit REST: {x.Message}"); }
        catch (HttpRequestException x) { return new Outcome.Unavailable($"Gerrit REST: {x.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return new Outcome.Unavailable("Gerrit REST timed out"); }

        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var eventAt = e.EventCreatedOn.ToUnixTimeSeconds();
        foreach (var m in change.Messages ?? [])
        {
            if (m.Message != e.Comment || m.Author?.Username != username) continue;
            if (e.PatchSetNumber is { } ps && m.RevisionNumber is { } rn && ps != rn) continue;
            if (GerritRestCatchUp.Seconds(m.Date) is not { } at) continue;
            if (Math.Abs(at - eventAt) > _options.WebhookClockSkewSeconds) continue;
            if (now - at > _options.WebhookMaxAgeSeconds)
                return new Outcome.Refused($"the comment was written {now - at} s ago, longer than Gateway:WebhookMaxAgeSeconds");
            return new Outcome.Confirmed(e with
            {
                Confirmed = true,
                Tag = m.Tag,
                Author = e.Author with { AccountId = m.Author.AccountId > 0 ? m.Author.AccountId : null },
            });
        }
        return new Outcome.Refused($"Gerrit has no such message by {username} on change {number}");
    }
}
