using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// A minimal HTTP forward proxy that only reaches allow-listed mirrors: <c>CONNECT host:port</c> (https registries)
/// and absolute-URI <c>GET</c>/<c>HEAD http://host[:port]/path</c> (http apt mirrors), one request per connection.
/// The host must be listed exactly (with its port); it is resolved here and every address checked before dialling
/// the checked address (no second lookup). Only clients from the build network are served; connections, header
/// size, connect time, idle time and lifetime are bounded; every refusal is logged and answered with a reason.
/// </summary>
public sealed class EgressProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade", "host",
    };

    private readonly TcpListener _listener;
    private readonly EgressAllowList _allow;
    private readonly AddressGuard _guard;
    private readonly IPNetwork _clients;
    private readonly BuildEgressOptions _limits;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _refused;

    private EgressProxy(TcpListener listener, EgressAllowList allow, AddressGuard guard, IPNetwork clients, BuildEgressOptions limits, ILogger logger)
    {
        _listener = listener;
        _allow = allow;
        _guard = guard;
        _clients = clients;
        _limits = limits;
        _logger = logger;
        _slots = new SemaphoreSlim(limits.MaxConnections, limits.MaxConnections);
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Requests refused so far (allow-list, address, method, limits).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Listens on <paramref name="listen"/> and serves only clients inside <paramref name="clients"/>.</summary>
    public static EgressProxy Start(IPEndPoint listen, EgressAllowList allow, AddressGuard guard, IPNetwork clients, BuildEgressOptions limits, ILogger logger)
    {
        var listener = new TcpListener(listen);
        listener.Start(backlog: 128);
        return new EgressProxy(listener, allow, guard, clients, limits, logger);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException e) { _logger.LogWarning(e, "Egress proxy accept failed"); continue; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var peer = (IPEndPoint)client.Client.RemoteEndPoint!;
        var peerAddress = peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address;
        var stream = client.GetStream();
        if (!_clients.Contains(peerAddress))
        {
            await RefuseAsync(stream, peer, "-", 403, $"client {peerAddress} is not on the build network");
            return;
        }
        if (!_slots.Wait(0))
        {
            await RefuseAsync(stream, peer, "-", 503, $"more than {_limits.MaxConnections} connections at once");
            return;
        }
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        lifetime.CancelAfter(TimeSpan.FromSeconds(_limits.MaxConnectionSeconds));
        try
        {
            await HandleAsync(client, stream, peer, lifetime.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "Egress connection from {Peer} ended", peer);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task HandleAsync(TcpClient client, NetworkStream stream, IPEndPoint peer, CancellationToken ct)
    {
        var (head, extra, error) = await ReadHeadAsync(stream, ct);
        if (head is null)
        {
            await RefuseAsync(stream, peer, "-", error == "control" ? 400 : 431,
                error == "control" ? "control characters in the request head" : $"request head missing or larger than {MaxHeadBytes} bytes");
            return;
        }
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await RefuseAsync(stream, peer, Printable(lines[0]), 400, "malformed request line");
            return;
        }
        var (method, target) = (parts[0], parts[1]);
        var headers = ParseHeaders(lines.Skip(1));
        if (headers is null)
        {
            await RefuseAsync(stream, peer, Printable(target), 400, "malformed header");
            return;
        }

        if (method == "CONNECT")
        {
            if (!TryParseAuthority(target, out var host, out var port))
            {
                await RefuseAsync(stream, peer, Printable(target), 400, "CONNECT needs host:port");
                return;
            }
            using var upstream = await DialAsync(stream, peer, host, port, ct);
            if (upstream is null) return;
            await stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), ct);
            var up = upstream.GetStream();
            if (extra.Length > 0) await up.WriteAsync(extra, ct);
            await PumpAsync(stream, client.Client, up, upstream.Client, ct);
            return;
        }

        if (method is not ("GET" or "HEAD"))
        {
            await RefuseAsync(stream, peer, Printable(target), 405, $"method {Printable(method)} is not allowed (CONNECT, GET, HEAD only)");
            return;
        }
        if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            await RefuseAsync(stream, peer, Printable(target), 400, "only absolute http:// URIs are proxied (use CONNECT for https)");
            return;
        }
        if (headers.Any(h => h.Name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
                          || (h.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && h.Value.Trim() != "0")))
        {
            await RefuseAsync(stream, peer, Printable(target), 400, "a GET or HEAD request must not carry a body");
            return;
        }
        using (var upstream = await DialAsync(stream, peer, uri.IdnHost, uri.Port, ct))
        {
            if (upstream is null) return;
            var request = new StringBuilder();
            request.Append(method).Append(' ').Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n");
            request.Append("Host: ").Append(uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}").Append("\r\n");
            foreach (var (name, value) in headers.Where(h => !HopByHop.Contains(h.Name)))
                request.Append(name).Append(": ").Append(value).Append("\r\n");
            request.Append("Connection: close\r\n\r\n");
            var up = upstream.GetStream();
            await up.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), ct);
            // One request per connection: only the answer flows back; the client reconnects for the next request.
            await CopyWithIdleAsync(up, stream, ct);
        }
    }

    /// <summary>Checks the allow-list, resolves, checks every address, dials a checked one; refuses (and returns null) otherwise.</summary>
    private async Task<TcpClient?> DialAsync(NetworkStream client, IPEndPoint peer, string rawHost, int port, CancellationToken ct)
    {
        var target = $"{Printable(rawHost)}:{port}";
        if (EgressAllowList.Normalize(rawHost) is not { } host || !_allow.Allows(host, port))
        {
            await RefuseAsync(client, peer, target, 403, "host is not an allowed package mirror");
            return null;
        }
        IPAddress[] addresses;
        using var connectTime = CancellationTokenSource.CreateLinkedTokenSource(ct);
        connectTime.CancelAfter(TimeSpan.FromSeconds(_limits.ConnectTimeoutSeconds));
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, connectTime.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            await RefuseAsync(client, peer, target, 502, "name does not resolve");
            return null;
        }
        // Any special address among the answers refuses the name: a rebinding answer must not win a race.
        var refusal = addresses.Length == 0 ? "name has no addresses"
            : addresses.Select(_guard.Refusal).FirstOrDefault(r => r is not null) is { } why ? $"resolves to a forbidden address ({why})" : null;
        if (refusal is not null)
        {
            await RefuseAsync(client, peer, target, 403, refusal);
            return null;
        }
        foreach (var address in addresses)
        {
            var upstream = new TcpClient(address.AddressFamily);
            try
            {
                await upstream.ConnectAsync(address, port, connectTime.Token);
                return upstream;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                upstream.Dispose();
                _logger.LogInformation("Egress proxy could not connect to {Address}:{Port} for {Target}: {Error}", address, port, target, e.Message);
            }
        }
        await RefuseAsync(client, peer, target, 502, "mirror unreachable");
        return null;
    }

    /// <summary>Both directions of a tunnel; an end of stream is passed on as a half-close.</summary>
    private async Task PumpAsync(NetworkStream client, Socket clientSocket, NetworkStream upstream, Socket upstreamSocket, CancellationToken ct)
    {
        using var idle = new IdleWatch(TimeSpan.FromSeconds(_limits.IdleTimeoutSeconds), ct);
        var toUpstream = CopyAsync(client, upstream, idle, then: () => upstreamSocket.Shutdown(SocketShutdown.Send));
        var toClient = CopyAsync(upstream, client, idle, then: () => clientSocket.Shutdown(SocketShutdown.Send));
        await Task.WhenAll(toUpstream, toClient);
    }

    private async Task CopyWithIdleAsync(NetworkStream from, NetworkStream to, CancellationToken ct)
    {
        using var idle = new IdleWatch(TimeSpan.FromSeconds(_limits.IdleTimeoutSeconds), ct);
        await CopyAsync(from, to, idle, then: null);
    }

    private static async Task CopyAsync(NetworkStream from, NetworkStream to, IdleWatch idle, Action? then)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, idle.Token)) > 0)
            {
                idle.Touch();
                await to.WriteAsync(buffer.AsMemory(0, n), idle.Token);
            }
            then?.Invoke();
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            idle.Cancel(); // one side broke or went idle: end both directions
        }
    }

    private static async Task<(string? Head, byte[] Extra, string? Error)> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HeadTimeout);
        var buffer = new byte[MaxHeadBytes];
        var filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(filled), timeout.Token);
                if (n == 0) return (null, [], "eof");
                filled += n;
                var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    var head = buffer.AsSpan(0, end);
                    foreach (var b in head)
                        if (b is not ((byte)'\r' or (byte)'\n' or (byte)'\t') && b is < 0x20 or > 0x7e) return (null, [], "control");
                    return (Encoding.ASCII.GetString(head), buffer[(end + 4)..filled], null);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        return (null, [], "size");
    }

    private static List<(string Name, string Value)>? ParseHeaders(IEnumerable<string> lines)
    {
        var headers = new List<(string, string)>();
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[..colon].Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))) return null;
            headers.Add((line[..colon], line[(colon + 1)..].Trim()));
        }
        return headers.Count > 100 ? null : headers;
    }

    private static bool TryParseAuthority(string authority, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = authority.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(authority.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out port) || port is < 1 or > 65535)
            return false;
        host = authority[..colon];
        if (host.StartsWith('[') != host.EndsWith(']')) return false;
        return host.Length > 0 && !host.Contains('@') && !host.Contains('/');
    }

    private async Task RefuseAsync(NetworkStream stream, IPEndPoint peer, string target, int status, string reason)
    {
        Interlocked.Increment(ref _refused);
        _logger.LogWarning("Egress proxy refused {Peer} → {Target}: {Reason}", peer, target, reason);
        var body = Encoding.UTF8.GetBytes($"Slipway egress proxy refused {target}: {reason}\n");
        var text = status switch { 400 => "Bad Request", 403 => "Forbidden", 405 => "Method Not Allowed", 431 => "Request Header Fields Too Large", 502 => "Bad Gateway", _ => "Service Unavailable" };
        var response = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await stream.WriteAsync(response.Concat(body).ToArray(), timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private static string Printable(string s) => new(s.Take(200).Select(c => c is < ' ' or > '~' ? '?' : c).ToArray());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accepting; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    /// <summary>Cancels when nothing moved for the idle time (or the outer token fires).</summary>
    private sealed class IdleWatch : IDisposable
    {
        private readonly CancellationTokenSource _cts;
        private readonly TimeSpan _idle;

        public IdleWatch(TimeSpan idle, CancellationToken outer)
        {
            _idle = idle;
            _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
            _cts.CancelAfter(idle);
        }

        public CancellationToken Token => _cts.Token;

        public void Touch()
        {
            try { _cts.CancelAfter(_idle); } catch (ObjectDisposedException) { }
        }

        public void Cancel()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose() => _cts.Dispose();
    }
}
