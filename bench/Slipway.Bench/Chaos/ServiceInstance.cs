using System.Diagnostics;

namespace Slipway.Bench.Chaos;

/// <summary>
/// One instance of one service as its own process, on a fixed 127.0.0.1 port, that can be killed with SIGKILL and
/// started again with the same settings. Its output is kept (bounded) and offered line by line to watchers, so a
/// fault can be injected at a moment the service itself announces.
/// </summary>
public sealed class ServiceInstance
{
    private const int KeptLines = 4000;
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly Queue<string> _output = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _watchers = [];
    private Process? _process;

    public ServiceInstance(string service, int index, string dll, int port, IReadOnlyDictionary<string, string> settings)
    {
        Service = service;
        Index = index;
        _dll = dll;
        Port = port;
        _settings = settings;
    }

    public string Service { get; }
    public int Index { get; }
    public int Port { get; }
    public string Name => $"{Service}#{Index}";
    public bool IsRunning => _process is { HasExited: false };
    public string Url => $"http://127.0.0.1:{Port}";

    public void Start()
    {
        if (IsRunning) return;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(_dll);
        foreach (var (k, v) in _settings) info.Environment[k] = v;
        info.Environment["ASPNETCORE_URLS"] = Url;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Name}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Seen(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Seen(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGKILL: no shutdown hook runs, exactly as a crash.</summary>
    public async Task KillHardAsync()
    {
        if (_process is not { } p) return;
        if (!p.HasExited)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try { await p.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        p.Dispose();
        _process = null;
    }

    /// <summary>The next output line matching <paramref name="match"/>, or null when none comes within <paramref name="timeout"/>.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken ct)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = (match, seen);
        lock (_watchers) _watchers.Add(entry);
        try
        {
            var done = await Task.WhenAny(seen.Task, Task.Delay(timeout, ct));
            return done == seen.Task ? await seen.Task : null;
        }
        catch (OperationCanceledException) { return null; }
        finally { lock (_watchers) _watchers.Remove(entry); }
    }

    /// <summary>The last lines this instance wrote (across restarts).</summary>
    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    private void Seen(string line)
    {
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptLines) _output.Dequeue();
        }
        lock (_watchers)
            foreach (var (match, seen) in _watchers)
                if (match(line)) seen.TrySetResult(line);
    }
}
