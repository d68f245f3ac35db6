using System.Net;

namespace Slipway.Gerrit.Rest;

/// <summary>A Gerrit REST call that failed; <see cref="Transient"/> says whether retrying can help.</summary>
public sealed class GerritRestException(HttpStatusCode? status, string message) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;

    /// <summary>Server errors, throttling and timeouts: worth retrying with backoff.</summary>
    public bool Transient => Status is null || (int)Status >= 500 || Status == HttpStatusCode.TooManyRequests;

    /// <summary>Bad credentials or missing permission: retrying will not help until someone fixes the configuration.</summary>
    public bool AuthenticationFailed => Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>The change is in a state that refuses this (e.g. votes on a closed change).</summary>
    public bool Conflict => Status == HttpStatusCode.Conflict;
}
