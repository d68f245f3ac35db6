using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Renci.SshNet;
using Renci.SshNet.Common;
using Slipway.Embedded;
using Slipway.GerritStandIn;

namespace Slipway.Tests.GerritStandIn;

/// <summary>An SSH.NET client of `gerrit stream-events`, as the gateway uses it: key auth, host key pinned to a known_hosts line.</summary>
internal sealed class StreamClient : IDisposable
{
    private readonly SshClient _client;
    private readonly SshCommand _command;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Task _pump;

    private StreamClient(SshClient client, SshCommand command)
    {
        _client = client;
        _command = command;
        _command.BeginExecute();
        _pump = Task.Run(async () =>
        {
            try
            {
                using var reader = new StreamReader(_command.OutputStream, Encoding.UTF8);
                while (await reader.ReadLineAsync() is { } line) await _lines.Writer.WriteAsync(line);
            }
            catch (Exception e) { _lines.Writer.TryComplete(e); return; }
            _lines.Writer.TryComplete();
        });
    }

    public static SshClient Connect(Slipway.GerritStandIn.GerritStandIn g, string privateKeyPath, string knownHostsLine)
    {
        var expected = Convert.FromBase64String(knownHostsLine.Split(' ')[2]);
        var auth = new PrivateKeyAuthenticationMethod(g.SshUser, new PrivateKeyFile(privateKeyPath));
        var info = new ConnectionInfo(Slipway.GerritStandIn.GerritStandIn.Host, g.SshPort, g.SshUser, auth) { Timeout = TimeSpan.FromSeconds(10) };
        var client = new SshClient(info);
        client.HostKeyReceived += (_, e) => e.CanTrust = e.HostKey.AsSpan().SequenceEqual(expected);
        try { client.Connect(); }
        catch { client.Dispose(); throw; }
        return client;
    }

    public static async Task<StreamClient> OpenAsync(Slipway.GerritStandIn.GerritStandIn g, string privateKeyPath, string command = "gerrit stream-events")
    {
        var before = g.StreamSubscriptions;
        var client = Connect(g, privateKeyPath, g.KnownHostsLine);
        var s = new StreamClient(client, client.CreateCommand(command));
        // Events are live only: wait until the stand-in sees this connection's subscription.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (g.StreamSubscriptions <= before)
        {
            if (DateTime.UtcNow > deadline) { s.Dispose(); throw new TimeoutException("stream-events did not subscribe"); }
            await Task.Delay(20);
        }
        return s;
    }

    public bool IsConnected => _client.IsConnected;

    /// <summary>The next line, or null when the stream ended.</summary>
    public async Task<string?> NextLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _lines.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) { throw new TimeoutException("no stream line within the timeout"); }
        catch (ChannelClosedException) { return null; }
        catch (Exception e) when (e is SshException or ObjectDisposedException or IOException) { return null; }
    }

    /// <summary>True when no line arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> QuietForAsync(TimeSpan wait)
    {
        try { await NextLineAsync(wait); return false; }
        catch (TimeoutException) { return true; }
    }

    public async Task<JsonObject> NextOfTypeAsync(string type)
    {
        while (true)
        {
            var line = await NextLineAsync() ?? throw new InvalidOperationException($"stream ended before a {type} event");
            var o = JsonNode.Parse(line)!.AsObject();
            if ((string?)o["type"] == type) return o;
        }
    }

    public void Dispose()
    {
        try { _command.Dispose(); } catch (Exception) { }
        try { _client.Dispose(); } catch (Exception) { }
    }
}

internal static class Http
{
    public static HttpClient Client(Slipway.GerritStandIn.GerritStandIn g, string? user = null, string? password = null)
    {
        var c = new HttpClient { BaseAddress = new Uri(g.HttpUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user ?? g.HttpUser}:{password ?? g.HttpPassword}")));
        return c;
    }

    /// <summary>Strips Gerrit's `)]}'` line (asserting it is there) and parses.</summary>
    public static async Task<JsonNode> GerritJsonAsync(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(body.StartsWith(")]}'\n", StringComparison.Ordinal), $"missing XSSI prefix: {body}");
        return JsonNode.Parse(body[5..])!;
    }

    public static StringContent Json(object o) =>
        new(System.Text.Json.JsonSerializer.Serialize(o), Encoding.UTF8, "application/json");
}

internal static class Git
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0",
    };

    public static Task<ProcessResult> RunAsync(string dir, params string[] args) =>
        ProcessRunner.RunAsync("git", ["-C", dir, .. args], environment: Env, timeout: TimeSpan.FromMinutes(1));

    public static async Task<string> CheckedAsync(string dir, params string[] args)
    {
        var r = await RunAsync(dir, args);
        Assert.True(r.Succeeded, $"git {string.Join(' ', args)}: {r.StdErr}");
        return r.StdOut.Trim();
    }
}

/// <summary>A temp dir removed when the test ends, pass or fail.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("slipway-gerrit-test-").FullName;
    public void Dispose() { try { Directory.Delete(Path, true); } catch (Exception) { } }
}
