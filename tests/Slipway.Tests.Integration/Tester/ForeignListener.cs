using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// A TCP listener on another loopback address (127.0.0.2): the "other host" a hostile spec aims the smoke step
/// at. It records every connection and what arrived on it; <see cref="ProveAliveAsync"/> shows it was listening,
/// so "it saw nothing" cannot pass because it was never there.
/// </summary>
public sealed class ForeignListener : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _seen = [];

    public ForeignListener(string address = "127.0.0.2")
    {
        _listener = new TcpListener(IPAddress.Parse(address), 0);
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _loop = AcceptAsync();
    }

    public IPEndPoint Endpoint { get; }

    /// <summary><c>127.0.0.2:PORT</c>.</summary>
    public string Target => $"{Endpoint.Address}:{Endpoint.Port}";

    /// <summary>The first bytes of every connection made to it.</summary>
    public IReadOnlyList<string> Seen
    {
        get { lock (_seen) return [.. _seen]; }
    }

    /// <summary>Connects and writes a marker itself, and waits until the listener has recorded it.</summary>
    public async Task ProveAliveAsync()
    {
        using (var client = new TcpClient())
        {
            // A listener on every address is proven through loopback.
            await client.ConnectAsync(Endpoint.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, Endpoint.Port) : Endpoint);
            await client.GetStream().WriteAsync("alive"u8.ToArray());
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Seen.Contains("alive"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the listener did not record its own probe");
            await Task.Delay(50);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = RecordAsync(client);
        }
    }

    private async Task RecordAsync(TcpClient client)
    {
        using (client)
        {
            var buffer = new byte[4096];
            var read = 0;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                read = await client.GetStream().ReadAsync(buffer, timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException) { }
            lock (_seen) _seen.Add(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
