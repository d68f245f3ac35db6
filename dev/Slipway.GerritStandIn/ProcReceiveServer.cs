using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Slipway.GerritStandIn;

/// <summary>One ref update a `git push` asked for (`old new ref`, as git's proc-receive hook receives it).</summary>
internal sealed record PushCommand(string OldId, string NewId, string Ref);

/// <summary>What the stand-in answers a push: per-ref status (null error = ok) and the `remote:` lines.</summary>
internal sealed record PushOutcome(IReadOnlyList<(string Ref, string? Error)> Results, IReadOnlyList<string> Messages);

/// <summary>An authenticated receive-pack request in flight: who pushes to which project.</summary>
internal sealed record PushSession(string Token, string Project, GerritAccount User);

/// <summary>
/// The receiving end of git's `proc-receive` hook. `git receive-pack` (run by `git http-backend`) hands every
/// pushed ref to the hook after the pack is stored and its connectivity checked; the hook script only relays
/// its stdin to this loopback listener and prints what comes back, so the protocol (pkt-lines) and the
/// decisions live here. The first line a connection sends is the session token of the receive-pack request
/// (an environment variable only that request's hook has); anything else is dropped.
/// </summary>
internal sealed class ProcReceiveServer : IDisposable
{
    private const int MaxPacket = 65520;
    private const int MaxCommands = 1000;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<string, PushSession> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<PushSession, IReadOnlyList<PushCommand>, IReadOnlyList<string>, CancellationToken, Task<PushOutcome>> _handle;
    private readonly Action<string>? _log;

    public ProcReceiveServer(Func<PushSession, IReadOnlyList<PushCommand>, IReadOnlyList<string>, CancellationToken, Task<PushOutcome>> handle,
        Action<string>? log)
    {
        _handle = handle;
        _log = log;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public const string TokenVariable = "SLIPWAY_STANDIN_PUSH";

    public PushSession Open(string project, GerritAccount user)
    {
        var s = new PushSession(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), project, user);
        _sessions[s.Token] = s;
        return s;
    }

    public void Close(PushSession s) => _sessions.TryRemove(s.Token, out _);

    /// <summary>
    /// The `proc-receive` hook: bash's /dev/tcp relays stdin to the listener; lines coming back are `O...`
    /// (pkt-lines for git, `printf %b` escapes so a NUL can pass) or `E...` (a `remote:` message on stderr).
    /// </summary>
    public string HookScript() => $$"""
        #!/bin/bash
        # Gerrit stand-in: proc-receive hook. Relays git's pkt-lines to the stand-in and prints its answers.
        set -u
        exec 3<>/dev/tcp/127.0.0.1/{{Port}} || { echo "Gerrit stand-in: push receiver unreachable" >&2; exit 1; }
        printf '%s\n' "${{{TokenVariable}}:-}" >&3
        exec 4<&0
        cat <&4 >&3 2>/dev/null &
        relay=$!
        while IFS= read -r line <&3; do
          case "$line" in
            O*) printf '%b' "${line#O}" ;;
            E*) printf '%s\n' "${line#E}" >&2 ;;
          esac
        done
        kill "$relay" 2>/dev/null
        exit 0

        """;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        cts.CancelAfter(TimeSpan.FromMinutes(10));
        var ct = cts.Token;
        try
        {
            var stream = client.GetStream();
            var token = await ReadTokenLineAsync(stream, ct);
            if (token is null || !_sessions.TryGetValue(token, out var session)) return;

            // Version negotiation: git offers capabilities after a NUL; ask for push options when offered.
            var version = await ReadPacketsUntilFlushAsync(stream, 10, ct);
            var offered = version.Count > 0 && version[0].Contains('\0') ? version[0][(version[0].IndexOf('\0') + 1)..] : "";
            var wantOptions = offered.Split(' ').Contains("push-options");
            await WriteLineAsync(stream, "O" + Escape(Packet(wantOptions ? "version=1\0push-options" : "version=1") + "0000"), ct);

            var commands = new List<PushCommand>();
            foreach (var line in await ReadPacketsUntilFlushAsync(stream, MaxCommands, ct))
            {
                var f = line.TrimEnd('\n').Split(' ', 3);
                if (f.Length != 3) return;
                commands.Add(new PushCommand(f[0], f[1], f[2]));
            }
            var options = wantOptions ? await ReadPacketsUntilFlushAsync(stream, 100, ct) : [];

            var outcome = await _handle(session, commands, options.Select(o => o.TrimEnd('\n')).ToList(), ct);
            var sb = new StringBuilder();
            foreach (var m in outcome.Messages) sb.Append('E').Append(OneLine(m)).Append('\n');
            var report = new StringBuilder();
            foreach (var (name, error) in outcome.Results)
                report.Append(Packet(error is null ? $"ok {name}" : $"ng {name} {OneLine(error)}"));
            report.Append("0000");
            sb.Append('O').Append(Escape(report.ToString())).Append('\n');
            await stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()), ct);
            await stream.FlushAsync(ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or FormatException)
        {
            _log?.Invoke("push receiver: " + e.Message);
        }
        catch (Exception e)
        {
            _log?.Invoke("push receiver: " + e);
        }
    }

    private static async Task<string?> ReadTokenLineAsync(Stream s, CancellationToken ct)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count <= 100)
        {
            if (await s.ReadAsync(one, ct) == 0) return null;
            if (one[0] == '\n') return Encoding.ASCII.GetString(bytes.ToArray());
            bytes.Add(one[0]);
        }
        return null;
    }

    /// <summary>Reads pkt-lines up to a flush packet (at most <paramref name="max"/> of them).</summary>
    private static async Task<List<string>> ReadPacketsUntilFlushAsync(Stream s, int max, CancellationToken ct)
    {
        var lines = new List<string>();
        var header = new byte[4];
        while (true)
        {
            await s.ReadExactlyAsync(header, ct);
            var length = Convert.ToInt32(Encoding.ASCII.GetString(header), 16);
            if (length == 0) return lines;
            if (length < 4 || length > MaxPacket) throw new FormatException($"bad pkt-line length {length}");
            if (lines.Count >= max) throw new FormatException("too many pkt-lines");
            var payload = new byte[length - 4];
            await s.ReadExactlyAsync(payload, ct);
            lines.Add(Encoding.UTF8.GetString(payload));
        }
    }

    private static Task WriteLineAsync(Stream s, string line, CancellationToken ct) =>
        s.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), ct).AsTask();

    private static string Packet(string payload) => $"{Encoding.UTF8.GetByteCount(payload) + 4:x4}{payload}";

    /// <summary>For the hook's `printf %b`: backslashes doubled, NUL as `\0`.</summary>
    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\0", "\\0");

    /// <summary>A message or reason as one line: control characters (newlines included) become spaces.</summary>
    private static string OneLine(string s) => new(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray());

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Dispose();
        _stop.Dispose();
    }
}
