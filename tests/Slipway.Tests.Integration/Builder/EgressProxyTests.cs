using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Building.Egress;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// The build egress proxy, in-process on 127.0.0.1: only exactly listed host:port pairs are reached, a listed name
/// that resolves to loopback is refused (resolve, then check), and every refusal is an answer with a reason while
/// the would-be target sees no connection. Allowed requests are forwarded (origin-form, no proxy headers) or tunnelled.
/// </summary>
public sealed class EgressProxyTests
{
    private static readonly IPNetwork Loopback = IPNetwork.Parse("127.0.0.0/8");

    /// <summary>A TCP listener on 127.0.0.1 that records what each connection sent and answers a fixed HTTP response.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Upstream()
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient c;
                    try { c = await _listener.AcceptTcpClientAsync(_stop.Token); } catch (OperationCanceledException) { return; }
                    lock (Received) Received.Add("");
                    var index = Received.Count - 1;
                    _ = Task.Run(async () =>
                    {
                        using var _ = c;
                        var s = c.GetStream();
                        var buffer = new byte[4096];
                        var text = new StringBuilder();
                        while (!text.ToString().Contains("\r\n\r\n") && !text.ToString().EndsWith("PING\n", StringComparison.Ordinal))
                        {
                            var n = await s.ReadAsync(buffer);
                            if (n == 0) break;
                            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
                        }
                        lock (Received) Received[index] = text.ToString();
                        var reply = text.ToString().StartsWith("PING", StringComparison.Ordinal) ? "PONG\n" : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
                        await s.WriteAsync(Encoding.ASCII.GetBytes(reply));
                    });
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public List<string> Received { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
        }
    }

    private static EgressProxy StartProxy(IEnumerable<(string, int)> allowed, string[]? allowedPrivate = null, IPNetwork? clients = null, int maxConnections = 8) =>
        EgressProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), new EgressAllowList(allowed),
            new AddressGuard((allowedPrivate ?? []).Select(c => IPNetwork.Parse(c)), []), clients ?? Loopback,
            new BuildEgressOptions { MaxConnections = maxConnections, ConnectTimeoutSeconds = 5, IdleTimeoutSeconds = 5 },
            NullLogger.Instance);

    /// <summary>Sends <paramref name="request"/> to the proxy and reads until it closes (or 10 s pass).</summary>
    private static async Task<string> SendAsync(EgressProxy proxy, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Endpoint);
        var s = client.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await s.ReadAsync(buffer, timeout.Token)) > 0) text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }
        return text.ToString();
    }

    [Fact]
    public async Task Connect_and_absolute_uri_to_a_host_not_on_the_list_are_refused_and_the_target_sees_nothing()
    {
        await using var target = new Upstream();
        // Even with loopback allowed as a private network, only the listed name counts.
        await using var proxy = StartProxy([("mirror.example", 80)], allowedPrivate: ["127.0.0.0/8"]);

        var connect = await SendAsync(proxy, $"CONNECT 127.0.0.1:{target.Port} HTTP/1.1\r\nHost: 127.0.0.1:{target.Port}\r\n\r\n");
        var get = await SendAsync(proxy, $"GET http://127.0.0.1:{target.Port}/secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        var byName = await SendAsync(proxy, $"GET http://localhost:{target.Port}/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var otherPort = await SendAsync(proxy, "CONNECT mirror.example:443 HTTP/1.1\r\n\r\n");
        var suffix = await SendAsync(proxy, "GET http://evil.mirror.example/ HTTP/1.1\r\n\r\n");

        Assert.StartsWith($"HTTP/1.1 403 Forbidden\r\n", connect);
        Assert.EndsWith($"Slipway egress proxy refused 127.0.0.1:{target.Port}: host is not an allowed package mirror\n", connect);
        Assert.EndsWith($"Slipway egress proxy refused 127.0.0.1:{target.Port}: host is not an allowed package mirror\n", get);
        Assert.EndsWith($"Slipway egress proxy refused localhost:{target.Port}: host is not an allowed package mirror\n", byName);
        Assert.EndsWith("Slipway egress proxy refused mirror.example:443: host is not an allowed package mirror\n", otherPort);
        Assert.EndsWith("Slipway egress proxy refused evil.mirror.example:80: host is not an allowed package mirror\n", suffix);
        Assert.Equal(5, proxy.Refused);
        Assert.Empty(target.Received);
    }

    [Fact]
    public async Task A_listed_name_that_resolves_to_loopback_is_refused_after_resolution()
    {
        await using var target = new Upstream();
        await using var proxy = StartProxy([("localhost", target.Port)]);

        var connect = await SendAsync(proxy, $"CONNECT localhost:{target.Port} HTTP/1.1\r\n\r\n");
        var get = await SendAsync(proxy, $"GET http://localhost:{target.Port}/ HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", connect);
        Assert.Contains($"refused localhost:{target.Port}: resolves to a forbidden address (", connect);
        Assert.Contains("is a loopback, private or special address)", get);
        Assert.Empty(target.Received);
    }

    [Fact]
    public async Task A_listed_mirror_is_forwarded_in_origin_form_and_tunnelled()
    {
        await using var target = new Upstream();
        await using var proxy = StartProxy([("localhost", target.Port)], allowedPrivate: ["127.0.0.0/8", "::1/128"]);

        var get = await SendAsync(proxy,
            $"GET http://LOCALHOST.:{target.Port}/debian/dists/bookworm/InRelease?x=1 HTTP/1.1\r\nHost: whatever\r\nProxy-Authorization: Basic c2VjcmV0\r\nUser-Agent: apt\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", get);
        Assert.Equal($"GET /debian/dists/bookworm/InRelease?x=1 HTTP/1.1\r\nHost: localhost.:{target.Port}\r\nUser-Agent: apt\r\nConnection: close\r\n\r\n", Assert.Single(target.Received));

        var tunnel = await SendAsync(proxy, $"CONNECT localhost:{target.Port} HTTP/1.1\r\nHost: localhost:{target.Port}\r\n\r\nPING\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\nPONG\n", tunnel);
        Assert.Equal("PING\n", target.Received[1]);
        Assert.Equal(0, proxy.Refused);
    }

    [Theory]
    [InlineData("POST http://localhost/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "405 Method Not Allowed", "method POST is not allowed (CONNECT, GET, HEAD only)")]
    [InlineData("GET /relative HTTP/1.1\r\nHost: localhost\r\n\r\n", "400 Bad Request", "only absolute http:// URIs are proxied (use CONNECT for https)")]
    [InlineData("GET https://localhost/ HTTP/1.1\r\n\r\n", "400 Bad Request", "only absolute http:// URIs are proxied (use CONNECT for https)")]
    [InlineData("GET http://user:pw@localhost/ HTTP/1.1\r\n\r\n", "400 Bad Request", "only absolute http:// URIs are proxied (use CONNECT for https)")]
    [InlineData("GET http://localhost/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "400 Bad Request", "a GET or HEAD request must not carry a body")]
    [InlineData("CONNECT localhost HTTP/1.1\r\n\r\n", "400 Bad Request", "CONNECT needs host:port")]
    [InlineData("CONNECT user@localhost:80 HTTP/1.1\r\n\r\n", "400 Bad Request", "CONNECT needs host:port")]
    [InlineData("GET http://localhost/ HTTP/1.1\r\nBad Header\r\n\r\n", "400 Bad Request", "malformed header")]
    [InlineData("GET\thttp://localhost/ HTTP/1.1\r\n\r\n", "400 Bad Request", "malformed request line")]
    [InlineData("GET http://localhost/\u0001 HTTP/1.1\r\n\r\n", "400 Bad Request", "control characters in the request head")]
    public async Task Malformed_or_unsupported_requests_are_refused_with_a_reason(string request, string status, string reason)
    {
        await using var proxy = StartProxy([("localhost", 80)], allowedPrivate: ["127.0.0.0/8", "::1/128"]);
        var answer = await SendAsync(proxy, request);
        Assert.StartsWith($"HTTP/1.1 {status}\r\n", answer);
        Assert.EndsWith($": {reason}\n", answer);
    }

    [Fact]
    public async Task An_oversized_head_a_client_off_the_build_network_and_too_many_connections_are_refused()
    {
        await using var target = new Upstream();
        await using (var proxy = StartProxy([("localhost", target.Port)], allowedPrivate: ["127.0.0.0/8"]))
        {
            var huge = await SendAsync(proxy, $"GET http://localhost:{target.Port}/ HTTP/1.1\r\nX-Big: {new string('a', 20_000)}\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 431 ", huge);
            Assert.EndsWith(": request head missing or larger than 16384 bytes\n", huge);
        }
        await using (var proxy = StartProxy([("localhost", target.Port)], allowedPrivate: ["127.0.0.0/8"], clients: IPNetwork.Parse("127.99.0.0/16")))
        {
            var offNetwork = await SendAsync(proxy, $"CONNECT localhost:{target.Port} HTTP/1.1\r\n\r\n");
            Assert.Equal($"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 77\r\nConnection: close\r\n\r\nSlipway egress proxy refused -: client 127.0.0.1 is not on the build network\n", offNetwork);
        }
        await using (var proxy = StartProxy([("localhost", target.Port)], allowedPrivate: ["127.0.0.0/8"], maxConnections: 1))
        {
            // The first connection holds the only slot while it waits for its request head.
            using var holder = new TcpClient();
            await holder.ConnectAsync(proxy.Endpoint);
            await Task.Delay(300);
            var second = await SendAsync(proxy, $"CONNECT localhost:{target.Port} HTTP/1.1\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", second);
            Assert.EndsWith(": more than 1 connections at once\n", second);
        }
        Assert.Empty(target.Received);
    }

    [Fact]
    public void The_allow_list_is_built_from_urls_and_the_machines_apt_sources()
    {
        var dir = Path.Combine(Path.GetTempPath(), "slipway-egress-apt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(dir, "sources.list.d"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "sources.list"), "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.one/debian bookworm main\ndeb-src http://src.mirror/debian bookworm main\ndeb file:/local ./\n");
            File.WriteAllText(Path.Combine(dir, "sources.list.d", "debian.sources"),
                "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.debian.org/debian https://Secure.Mirror:8443/d\nSuites: bookworm\n");
            File.WriteAllText(Path.Combine(dir, "sources.list.d", "ignored.txt"), "URIs: http://not.read/\n");
            var list = EgressAllowList.From(new BuildEgressOptions
            {
                AptConfigDir = dir, AllowedUrls = ["https://registry.npmjs.org/", "https://pypi.org/simple"],
            });
            Assert.Equal(
                ["deb.debian.org:80", "mirror.one:80", "pypi.org:443", "registry.npmjs.org:443", "secure.mirror:8443", "src.mirror:80"],
                list.Entries.Order(StringComparer.Ordinal));
            Assert.True(list.Allows("Deb.Debian.Org.", 80));
            Assert.False(list.Allows("deb.debian.org", 443));
            Assert.False(list.Allows("snapshot.debian.org", 80));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
