using System.Net;
using System.Net.Sockets;

namespace Slipway.Embedded;

/// <summary>
/// A TCP port on 127.0.0.1 that nothing listens on right now, for a process started later to bind. Taken below the
/// kernel's ephemeral range (Linux: from 32768), so no outgoing connection made in between can be given it as its
/// local port (that race failed tests: the OS's own "port 0" pick is from that range); random within the range, never
/// handed out twice by this process, and checked free by binding it.
/// </summary>
public static class FreePort
{
    private const int First = 20000, Last = 32000; // below ip_local_port_range's default start (32768)
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            lock (HandedOut) if (!HandedOut.Add(port)) continue;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException) { } // taken: try another
        }
        using var any = new TcpListener(IPAddress.Loopback, 0); // the range is crowded: let the OS pick, as before
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>True when something accepts TCP connections on 127.0.0.1:port.</summary>
    public static async Task<bool> IsListeningAsync(int port, CancellationToken ct = default)
    {
        using var client = new TcpClient();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
