using System.Net;
using System.Net.Sockets;

namespace Slipway.Deployer.Backends.Docker;

/// <summary>Readiness and liveness checks over HTTP: a 2xx answer passes, anything else says why it did not.</summary>
public sealed class HttpProbe(TimeSpan requestTimeout) : IDisposable
{
    // No proxy: probes go to 127.0.0.1 and must never leave the machine through an HTTP_PROXY.
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.Zero })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Null when <c>GET endpoint+path</c> answered 2xx, else a short description such as <c>GET /readyz -> 503</c>.</summary>
    public async Task<string?> CheckAsync(string endpoint, string path, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(requestTimeout);
        try
        {
            using var response = await _http.GetAsync(endpoint + path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.IsSuccessStatusCode ? null : $"GET {path} -> {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"GET {path} -> no answer within {requestTimeout.TotalSeconds:0.#}s";
        }
        catch (HttpRequestException e)
        {
            var detail = e.InnerException is SocketException s ? s.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.ConnectionReset => "connection reset",
                _ => s.Message,
            } : e.HttpRequestError switch
            {
                HttpRequestError.ResponseEnded => "connection closed without an answer",
                _ => e.Message,
            };
            return $"GET {path} -> {detail}";
        }
    }

    public void Dispose() => _http.Dispose();
}
