using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Slipway.Tests.Integration.Support;

/// <summary>A service run as its own OS process (as in production), killed on dispose, output kept for diagnostics.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public int Port { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <param name="port">The port to listen on; a free one when absent.</param>
    public static ServiceProcess Start(string dll, IDictionary<string, string?> environment, int? port = null)
    {
        port ??= Slipway.Embedded.FreePort.Next();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        // Only what the test gives: no inherited Kafka/Postgres settings leak into "missing key" tests.
        foreach (var key in info.Environment.Keys.Where(k => k.Contains("__")).ToList()) info.Environment.Remove(key);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // The service ends itself when this test host is gone, also when the host was killed (no DisposeAsync ran).
        foreach (var (key, value) in Slipway.Hosting.Lifetime.ParentProcess.ChildEnvironment()) info.Environment[key] = value;
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return new ServiceProcess(Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}"), port.Value);
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flushes the redirected output
        return _process.ExitCode;
    }

    /// <summary>Polls <c>/_info</c> until every consumer has partitions assigned.</summary>
    public async Task WaitUntilAssignedAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"service exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var info = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{Port}/_info"));
                var consumers = info.RootElement.GetProperty("consumers").EnumerateArray().ToList();
                if (consumers.Count > 0 && consumers.All(c => c.GetProperty("assigned").GetBoolean())) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"consumers not assigned within {timeout}:\n{Output}");
    }

    public async Task<HttpResponseMessage> GetAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetAsync($"http://127.0.0.1:{Port}{path}");
    }

    /// <summary>SIGTERM: what an orchestrator sends to stop a service gracefully.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && !Slipway.Embedded.Posix.Kill(_process.Id, Slipway.Embedded.Posix.SIGTERM))
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, no goodbye to the consumer group.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>
    /// Stops the service gracefully first (so it removes what it set up outside itself, e.g. the builder's egress
    /// network and firewall rules), then kills it if it is still running after a few seconds.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            Terminate();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException) { }
        KillHard();
        _process.Dispose();
    }
}
