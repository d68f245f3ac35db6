using System.Diagnostics;
using Slipway.Embedded;

namespace Slipway.Cli.Stack;

/// <summary>
/// The six services as separate processes, their output interleaved on this terminal with the
/// service's name in front, or written to one file per service under <c>logDir</c> when given (the
/// demo keeps its terminal for the story); stopped with SIGTERM (graceful: in-flight work finishes, offsets are
/// committed, the consumer group is left) and killed only if they do not stop in time.
/// </summary>
internal sealed class ServiceStack(string? logDir = null) : IAsyncDisposable
{
    public static readonly (string Dir, string Assembly)[] Services =
    [
        ("gerrit-gateway", "Slipway.GerritGateway"),
        ("builder", "Slipway.Builder"),
        ("tester", "Slipway.Tester"),
        ("publisher", "Slipway.Publisher"),
        ("deployer", "Slipway.Deployer"),
        ("reporter", "Slipway.Reporter"),
    ];

    private static readonly ConsoleColor[] Colors =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Yellow, ConsoleColor.Magenta, ConsoleColor.Blue, ConsoleColor.DarkCyan];

    private static readonly object ConsoleLock = new();
    private readonly List<(string Name, Process Process, int Port)> _running = [];
    private readonly List<StreamWriter> _logs = [];

    /// <summary>The file a service's output goes to, when output goes to files.</summary>
    public string? LogFileOf(string service) => logDir is null ? null : Path.Combine(logDir, service + ".log");

    public IReadOnlyList<(string Name, int Port)> Endpoints => _running.Select(r => (r.Name, r.Port)).ToList();

    public string UrlOf(string service) => $"http://127.0.0.1:{_running.First(r => r.Name == service).Port}";

    public void Start(string repo, string configuration, IReadOnlyDictionary<string, string> environment)
    {
        var ports = Services.ToDictionary(s => s.Dir, _ => FreePort.Next());
        for (var i = 0; i < Services.Length; i++)
        {
            var (dir, assembly) = Services[i];
            var dll = Path.Combine(repo, "services", dir, "bin", configuration, "net10.0", assembly + ".dll");
            var port = ports[dir];
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(dll);
            foreach (var (k, v) in PipelineSettings.ForService(dir, environment)) info.Environment[k] = v;
            info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            // Each service ends itself when this process is gone, also when it was killed (SLIPWAY_PARENT_PID).
            foreach (var (k, v) in Slipway.Hosting.Lifetime.ParentProcess.ChildEnvironment()) info.Environment[k] = v;
            // A 4 MB allocation budget between young collections, as in the image (docs/benchmarks.md, "Memory"); one set outside wins.
            info.Environment.TryAdd("DOTNET_GCgen0size", "0x400000");
            // Links in Gerrit comments point at the reporter's run pages.
            info.Environment["Reporter__PublicUrl"] = $"http://127.0.0.1:{ports["reporter"]}";
            // The builder plans `${<stage>.artifactURLs}` as links to the reporter's artifact downloads.
            info.Environment["Pipeline__ArtifactBaseUrl"] = $"http://127.0.0.1:{ports["reporter"]}";
            // The environments page passes approvals and rollbacks (with the approver's token) to the deployer's API.
            info.Environment["Reporter__DeployerUrl"] = $"http://127.0.0.1:{ports["deployer"]}";
            var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dir}");
            var color = Colors[i % Colors.Length];
            Action<string?> output = line => Print(dir, color, line);
            if (LogFileOf(dir) is { } file)
            {
                Directory.CreateDirectory(logDir!);
                var writer = new StreamWriter(file, append: false) { AutoFlush = true };
                _logs.Add(writer);
                output = line => { if (line is not null) lock (writer) writer.WriteLine(line); };
            }
            process.OutputDataReceived += (_, e) => output(e.Data);
            process.ErrorDataReceived += (_, e) => output(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _running.Add((dir, process, port));
            Print("slipway", ConsoleColor.White, $"started {dir} (pid {process.Id}) on http://127.0.0.1:{port}");
        }
    }

    /// <summary>Waits until every service answers 200 on /readyz; throws naming the ones that did not.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var pending = _running.ToList();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var s in pending.ToList())
            {
                if (s.Process.HasExited) throw new InvalidOperationException($"{s.Name} exited with code {s.Process.ExitCode}");
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{s.Port}/readyz", ct);
                    if (response.IsSuccessStatusCode)
                    {
                        pending.Remove(s);
                        Print("slipway", ConsoleColor.White, $"{s.Name} is ready");
                    }
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            }
            if (pending.Count > 0) await Task.Delay(300, ct);
        }
        if (pending.Count > 0)
            throw new TimeoutException($"not ready within {timeout}: {string.Join(", ", pending.Select(p => p.Name))}");
    }

    public bool AnyExited(out string? name)
    {
        var exited = _running.FirstOrDefault(r => r.Process.HasExited);
        name = exited.Name;
        return exited.Process is not null;
    }

    public static void Print(string source, ConsoleColor color, string? line)
    {
        if (line is null) return;
        lock (ConsoleLock)
        {
            Console.ForegroundColor = color;
            Console.Write($"{source,-15}| ");
            Console.ResetColor();
            Console.WriteLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process, _) in _running.Where(r => !r.Process.HasExited))
            Posix.Kill(process.Id, Posix.SIGTERM); // graceful shutdown
        foreach (var (name, process, _) in _running)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(35));
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                Print("slipway", ConsoleColor.Red, $"{name} did not stop in time; killing it");
                process.Kill(entireProcessTree: true);
            }
            process.WaitForExit();
            Print("slipway", ConsoleColor.White, $"{name} stopped (exit code {process.ExitCode})");
            process.Dispose();
        }
        _running.Clear();
        foreach (var log in _logs) await log.DisposeAsync();
        _logs.Clear();
    }

}
