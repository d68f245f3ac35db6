using System.Net;
using System.Net.Sockets;

namespace Slipway.Tester.Smoke;

/// <summary>
/// The smoke step's HTTP client, one per smoke test: it can open a connection to the service under test and
/// nowhere else. <see cref="RequestPath"/> refuses bad targets before a request is built; this is the
/// enforcement point under it — the connect callback ignores name resolution and only ever dials the one
/// endpoint, and refuses any request addressed to another host or port, so even a bug in building URIs cannot
/// reach the host's network. Redirects are never followed (the service-checker contract matches a 3xx as the
/// answer), no proxy is used, nothing is decompressed (no zip bombs), cookies and credentials are never sent,
/// response headers are bounded. Timeouts are per request (the caller's cancellation token).
/// </summary>
/// <remarks>
/// Chosen over running the checker inside the run's isolated network: that would need a checker image and a
/// container per smoke test to reach the same guarantee, while the service's own network is already internal
/// (no outbound traffic) and the only way in is this client through the forwarder's 127.0.0.1 port.
/// </remarks>
public static class ServiceOnlyHttp
{
    /// <summary>Most bytes of response headers read, in KiB (SocketsHttpHandler's unit).</summary>
    public const int MaxResponseHeadersKiB = 64;

    /// <summary>A client for <paramref name="service"/> (<c>http://127.0.0.1:PORT</c>), whose connections only reach <paramref name="endpoint"/>.</summary>
    public static HttpClient Create(Uri service, IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(endpoint);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PreAuthenticate = false,
            Credentials = null,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = MaxResponseHeadersKiB,
            MaxResponseDrainSize = 64 * 1024,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, ct) => ConnectAsync(service, endpoint, context, ct),
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private static async ValueTask<Stream> ConnectAsync(Uri service, IPEndPoint endpoint, SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var target = context.DnsEndPoint;
        if (!string.Equals(target.Host, service.IdnHost, StringComparison.OrdinalIgnoreCase) || target.Port != service.Port)
            throw new RefusedRequestException($"refused a connection to {target.Host}:{target.Port}: the smoke step only connects to the service at {service.Authority}");
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
