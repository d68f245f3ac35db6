using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Docker.DotNet;

namespace Slipway.Builder.Building.BuildKit;

/// <summary>The query of one <c>POST /build</c>: what the engine's BuildKit builds and how it tags the image.</summary>
public sealed record EngineBuildQuery
{
    public required string Dockerfile { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();

    /// <summary><c>default</c> (the engine's bridge) or <c>none</c>: the only modes BuildKit in dockerd accepts besides <c>host</c>.</summary>
    public required string NetworkMode { get; init; }

    public string Query()
    {
        var q = new List<string>
        {
            "version=2", // BuildKit; no session: the context is the request body
            "dockerfile=" + Uri.EscapeDataString(Dockerfile),
            "networkmode=" + Uri.EscapeDataString(NetworkMode),
            "rm=1", "forcerm=1",
            "labels=" + Uri.EscapeDataString(JsonSerializer.Serialize(Labels)),
            "buildargs=" + Uri.EscapeDataString(JsonSerializer.Serialize(BuildArgs)),
        };
        q.AddRange(Tags.Select(t => "t=" + Uri.EscapeDataString(t)));
        return string.Join('&', q);
    }
}

/// <summary>
/// <c>POST /build?version=2</c> on the engine the <see cref="IDockerClient"/> talks to. Docker.DotNet 3.125 has no
/// <c>version</c> parameter and its message type cannot hold BuildKit's string-valued <c>aux</c>, so this one call
/// is made directly (unix socket or plain TCP, as configured for Docker.DotNet) and the messages are read raw.
/// </summary>
public sealed class EngineBuildApi : IDisposable
{
    /// <summary>Largest single message accepted from the engine (a status batch with step output).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private readonly HttpClient _http;

    public EngineBuildApi(Uri endpoint)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        Uri baseUri;
        switch (endpoint.Scheme)
        {
            case "unix":
                var socketPath = endpoint.LocalPath;
                handler.ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
                baseUri = new Uri("http://docker.sock/");
                break;
            case "tcp" or "http":
                baseUri = new UriBuilder("http", endpoint.Host, endpoint.Port).Uri;
                break;
            default:
                throw new NotSupportedException($"the BuildKit build call supports unix:// and tcp:// engine endpoints, not {endpoint.Scheme}://");
        }
        _http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// Sends the context and reads the engine's messages until the build ends, handing each to
    /// <paramref name="onMessage"/>. A refusal before the build starts throws <see cref="DockerApiException"/>.
    /// </summary>
    public async Task BuildAsync(EngineBuildQuery query, Stream context, string? registryConfig, Action<JsonElement> onMessage, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "build?" + query.Query());
        request.Content = new StreamContent(context);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        if (registryConfig is not null) request.Headers.Add("X-Registry-Config", registryConfig);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            throw new DockerApiException(response.StatusCode, body.Length > 64 * 1024 ? body[..(64 * 1024)] : body);
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await ReadMessagesAsync(stream, onMessage, ct);
    }

    /// <summary>The engine writes one JSON object per line; a line longer than <see cref="MaxMessageBytes"/> ends the read.</summary>
    internal static async Task ReadMessagesAsync(Stream stream, Action<JsonElement> onMessage, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var line = new MemoryStream();
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.Write(buffer, start, i - start);
                Dispatch(line, onMessage);
                start = i + 1;
            }
            line.Write(buffer, start, read - start);
            if (line.Length > MaxMessageBytes)
                throw new IOException($"the engine sent a message larger than {MaxMessageBytes} bytes");
        }
        Dispatch(line, onMessage);
    }

    private static void Dispatch(MemoryStream line, Action<JsonElement> onMessage)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length).Trim("\r\n \t"u8);
        line.SetLength(0);
        if (bytes.IsEmpty) return;
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(bytes.ToArray());
        }
        catch (JsonException e)
        {
            throw new IOException($"the engine sent a message that is not JSON: {e.Message}", e);
        }
        using (json) onMessage(json.RootElement);
    }

    /// <summary>The <c>X-Registry-Config</c> header: registry host → credentials, base64url JSON as the engine expects.</summary>
    public static string? RegistryConfig(IEnumerable<(string Host, string? Username, string? Password)> registries)
    {
        var map = registries.DistinctBy(r => r.Host).ToDictionary(r => r.Host, r => new Dictionary<string, string?>
        {
            ["username"] = r.Username, ["password"] = r.Password, ["serveraddress"] = r.Host,
        });
        if (map.Count == 0) return null;
        return Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(map)).Replace('+', '-').Replace('/', '_');
    }

    public void Dispose() => _http.Dispose();
}
