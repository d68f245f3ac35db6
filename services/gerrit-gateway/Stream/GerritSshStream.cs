using System.Runtime.CompilerServices;
using Renci.SshNet;
using Renci.SshNet.Common;
using Slipway.Gerrit.Ssh;

namespace Slipway.GerritGateway.Stream;

/// <summary>
/// One SSH connection running <c>gerrit stream-events</c>, yielding its lines. The server's host
/// key must be in known_hosts (a mismatch refuses the connection, loudly). Gerrit sends no
/// heartbeats, so SSH keepalives detect a dead peer; the enumeration ends when the stream does.
/// </summary>
public sealed class GerritSshStream(Uri sshUrl, string privateKeyPath, KnownHosts knownHosts, TimeSpan keepAlive)
{
    /// <param name="connected">called once the command runs (the stream is live from then on)</param>
    public async IAsyncEnumerable<string> ReadLinesAsync(Action connected, [EnumeratorCancellation] CancellationToken ct)
    {
        var host = sshUrl.Host;
        var port = sshUrl.IsDefaultPort || sshUrl.Port <= 0 ? 29418 : sshUrl.Port;
        var user = Uri.UnescapeDataString(sshUrl.UserInfo);
        using var key = new PrivateKeyFile(privateKeyPath);
        var connection = new Renci.SshNet.ConnectionInfo(host, port, user, new PrivateKeyAuthenticationMethod(user, key))
        {
            Timeout = TimeSpan.FromSeconds(15),
        };
        using var client = new SshClient(connection) { KeepAliveInterval = keepAlive };
        string? rejected = null;
        client.HostKeyReceived += (_, e) =>
        {
            e.CanTrust = knownHosts.Trusts(host, port, e.HostKeyName, e.HostKey);
            if (!e.CanTrust) rejected = $"host key {e.HostKeyName} SHA256:{e.FingerPrintSHA256} of {host}:{port} is not in known_hosts";
        };
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(ct);
        client.ErrorOccurred += (_, _) => broken.Cancel();

        try { await client.ConnectAsync(ct); }
        catch (SshConnectionException) when (rejected is not null) { throw new HostKeyMismatchException(rejected); }

        using var command = client.CreateCommand("gerrit stream-events");
        var running = command.ExecuteAsync(broken.Token);
        connected();
        using var reader = new StreamReader(command.OutputStream);
        while (!broken.IsCancellationRequested)
        {
            string? line;
            try { line = await reader.ReadLineAsync(broken.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { break; } // the connection broke
            if (line is null) break;
            if (line.Length > 0) yield return line;
        }
        ct.ThrowIfCancellationRequested();
        try { await running.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None); }
        catch (Exception) { /* the stream ended; why is logged by the caller as a disconnect */ }
    }
}

public sealed class HostKeyMismatchException(string message) : Exception(message);
