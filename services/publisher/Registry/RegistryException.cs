using System.Net;

namespace Slipway.Publisher.Registry;

/// <summary>The registry refused or failed a request. The message never contains credentials.</summary>
public sealed class RegistryException(string message, HttpStatusCode? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The registry's answer, when it answered.</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>True for 401/403: retrying with the same credentials will not help.</summary>
    public bool IsAuthenticationFailure => StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
