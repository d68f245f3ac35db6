namespace Slipway.Embedded;

/// <summary>
/// Runs <see cref="MockKafkaCluster"/> in a detached child process (the CLI's `kafka`
/// command), because the cluster lives only as long as the process hosting it.
/// </summary>
public sealed class KafkaHostProcess
{
    /// <summary>Every kafka host's command line contains this; checked before signalling a pid.</summary>
    public const string Marker = "kafka";

    private readonly string _exe;
    private readonly IReadOnlyList<string> _args;
    private readonly IReadOnlyDictionary<string, string>? _environment;

    public string Directory { get; }
    public string StdoutFile => Path.Combine(Directory, "bootstrap.txt");
    public string LogFile => Path.Combine(Directory, "kafka.log");

    /// <param name="exe">program to run, e.g. dotnet</param>
    /// <param name="args">its arguments, ending in the `kafka` command and its options</param>
    /// <param name="environment">added to the host's environment (e.g. the parent it must not outlive)</param>
    public KafkaHostProcess(string directory, string exe, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory = Path.GetFullPath(directory);
        _exe = exe;
        _args = args;
        _environment = environment;
    }

    /// <summary>Starts the host, reports its pid at once, then returns the bootstrap servers it prints first.</summary>
    public async Task<string> StartAsync(Action<int> onStarted, CancellationToken ct = default)
    {
        System.IO.Directory.CreateDirectory(Directory);
        File.Delete(StdoutFile);
        var pid = DetachedProcess.Start(_exe, _args, StdoutFile, LogFile, workingDirectory: Directory, _environment);
        onStarted(pid);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var text = File.Exists(StdoutFile) ? await File.ReadAllTextAsync(StdoutFile, ct) : "";
            var newline = text.IndexOf('\n');
            if (newline > 0) return text[..newline].Trim();
            if (!DetachedProcess.IsAlive(pid, Marker))
                throw new InvalidOperationException($"the Kafka host exited before it was ready; see {LogFile}:\n{DockerEngine.Tail(LogFile)}");
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"the Kafka host printed no bootstrap servers within 60 s; see {LogFile}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Alive, and its first broker accepts connections.</summary>
    public static async Task<bool> IsRunningAsync(InfraState.KafkaPart? part, CancellationToken ct = default)
    {
        if (part?.BootstrapServers is not { Length: > 0 } servers || !DetachedProcess.IsAlive(part.Pid, Marker)) return false;
        var first = servers.Split(',')[0];
        return int.TryParse(first[(first.LastIndexOf(':') + 1)..], out var port) && await FreePort.IsListeningAsync(port, ct);
    }

    public static Task StopAsync(int pid, CancellationToken ct = default) =>
        DetachedProcess.StopAsync(pid, Marker, TimeSpan.FromSeconds(15), ct);
}
