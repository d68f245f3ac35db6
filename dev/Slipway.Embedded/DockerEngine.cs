using System.Net.Http;
using System.Net.Sockets;

namespace Slipway.Embedded;

/// <summary>
/// A Docker engine to build and run in: the machine's own when one answers (we leave it
/// alone), otherwise Debian's dockerd started in the background and owned by us.
/// </summary>
public sealed class DockerEngine
{
    private const string Socket = "/var/run/docker.sock";

    public string Directory { get; }
    public string PidFile => Path.Combine(Directory, "dockerd.pid");
    public string LogFile => Path.Combine(Directory, "dockerd.log");

    /// <summary>The dockerd we started, or 0 when the engine is someone else's.</summary>
    public int StartedPid { get; private set; }

    /// <summary>The endpoint clients should use (DOCKER_HOST when set, else the default socket).</summary>
    public static string Endpoint =>
        Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : "unix://" + Socket;

    public DockerEngine(string directory, int startedPid = 0)
    {
        Directory = Path.GetFullPath(directory);
        StartedPid = startedPid;
    }

    /// <summary>How many times a dockerd that exits or does not answer within <see cref="StartTimeout"/> is started again.</summary>
    private const int StartAttempts = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Uses a running engine, or installs and starts dockerd. Calls onStarted(pid) as soon as one is spawned. A dockerd
    /// started right after another one stopped can fail while the old one's containerd still lets go of its state (seen
    /// in CI): it is stopped and started again, at most <see cref="StartAttempts"/> times in all.
    /// </summary>
    public async Task EnsureRunningAsync(Action<int>? onStarted = null, TextWriter? log = null, CancellationToken ct = default)
    {
        if (await IsAnsweringAsync(ct)) return;

        await DebianPackages.EnsureInstalledAsync(["docker.io"], log, ct);
        System.IO.Directory.CreateDirectory(Directory);
        for (var attempt = 1; ; attempt++)
        {
            StartedPid = DetachedProcess.Start("dockerd", ["--pidfile", PidFile], LogFile, LogFile);
            onStarted?.Invoke(StartedPid);
            var deadline = DateTime.UtcNow + StartTimeout;
            while (!await IsAnsweringAsync(ct))
            {
                if (!DetachedProcess.IsAlive(StartedPid, "dockerd") || DateTime.UtcNow > deadline) break;
                await Task.Delay(500, ct);
            }
            if (DetachedProcess.IsAlive(StartedPid, "dockerd") && await IsAnsweringAsync(ct)) return;
            var tail = Tail(LogFile);
            await StopAsync(ct);
            if (attempt == StartAttempts)
                throw new InvalidOperationException(
                    $"dockerd did not come up within {StartTimeout.TotalSeconds:0} s ({StartAttempts} attempts); see {LogFile}:\n{tail}");
            log?.WriteLine($"docker: dockerd did not come up (attempt {attempt} of {StartAttempts}); starting it again in 5 s. Its log ends:\n{tail}");
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
        }
    }

    public bool OwnsRunningEngine => StartedPid > 0 && DetachedProcess.IsAlive(StartedPid, "dockerd");

    /// <summary>Stops dockerd only if we started it (it stops its own containerd).</summary>
    public Task StopAsync(CancellationToken ct = default) =>
        DetachedProcess.StopAsync(StartedPid, "dockerd", TimeSpan.FromSeconds(30), ct);

    /// <summary>`docker version` succeeds, or (with no docker client) the socket answers /_ping.</summary>
    public static async Task<bool> IsAnsweringAsync(CancellationToken ct = default)
    {
        if (ProcessRunner.Which("docker") is not null)
            return (await ProcessRunner.RunAsync("docker", ["version"], timeout: TimeSpan.FromSeconds(15), ct: ct)).Succeeded;
        return await PingSocketAsync(ct);
    }

    private static async Task<bool> PingSocketAsync(CancellationToken ct)
    {
        if (!File.Exists(Socket)) return false;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(Socket), token);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync("http://docker/_ping", ct);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    internal static string Tail(string file, int lines = 15) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(lines)) : "(no log)";
}
