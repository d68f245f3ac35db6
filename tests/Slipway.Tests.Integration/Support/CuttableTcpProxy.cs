using System.Net;
using System.Net.Sockets;

namespace Slipway.Tests.Integration.Support;

/// <summary>
/// A loopback TCP forwarder a test can cut: <see cref="Cut"/> resets every open connection and
/// refuses new ones (accepts and closes them at once) until <see cref="Restore"/>. Put between a
/// service and Postgres it is a database blip as the service sees it.
/// </summary>
public sealed class CuttableTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile bool _cut;

    public CuttableTcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Cut()
    {
        _cut = true;
        lock (_open)
        {
            foreach (var c in _open) { try { c.Client.LingerState = new LingerOption(true, 0); c.Close(); } catch (Exception) { } }
            _open.Clear();
        }
    }

    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            if (_cut) { client.Client.LingerState = new LingerOption(true, 0); client.Close(); continue; }
            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            lock (_open) { _open.Add(client); _open.Add(upstream); }
            var a = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var b = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception) { /* cut or closed: both ends go */ }
        finally
        {
            client.Close();
            upstream.Close();
            lock (_open) { _open.Remove(client); _open.Remove(upstream); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        try { await _accepting; } catch (Exception) { }
        _stop.Dispose();
    }
}
