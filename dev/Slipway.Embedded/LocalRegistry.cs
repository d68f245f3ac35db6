using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Slipway.Embedded;

/// <summary>
/// Debian's docker-registry (CNCF distribution) on 127.0.0.1 with htpasswd auth and
/// deletes enabled (retention needs them). Plain HTTP: dockerd trusts 127.0.0.1 registries.
/// </summary>
public sealed class LocalRegistry
{
    public const string DefaultUsername = "slipway";

    public string Directory { get; }
    public string ConfigFile => Path.Combine(Directory, "config.yml");
    public string LogFile => Path.Combine(Directory, "registry.log");
    public int Port { get; private set; }
    public string Username { get; private set; }
    public string Password { get; private set; }
    public int Pid { get; private set; }
    public string Url => $"127.0.0.1:{Port}";

    public LocalRegistry(string directory, int port = 0, string? username = null, string? password = null, int pid = 0)
    {
        Directory = Path.GetFullPath(directory);
        Port = port;
        Username = username ?? DefaultUsername;
        Password = password ?? "";
        Pid = pid;
    }

    /// <summary>Writes config and htpasswd, starts the registry, waits for it, logs dockerd in.</summary>
    public async Task StartAsync(Action<LocalRegistry>? onStarted = null, TextWriter? log = null, CancellationToken ct = default)
    {
        await DebianPackages.EnsureInstalledAsync(["docker-registry", "apache2-utils"], log, ct);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "data"));

        var choosePort = Port == 0;
        if (Password.Length == 0) Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

        // -i reads the password from stdin, so it never shows in a process listing.
        var htpasswd = await ProcessRunner.RunCheckedAsync("htpasswd", ["-niB", Username], stdin: Password + "\n", ct: ct);
        var htpasswdFile = Path.Combine(Directory, "htpasswd");
        await WritePrivateAsync(htpasswdFile, htpasswd.StdOut.Trim() + "\n", ct);

        // A free port can be taken between FreePort's check and the registry's bind; a registry that exits at once is
        // started again on another port (at most three times) rather than failing the whole run.
        for (var attempt = 1; ; attempt++)
        {
            if (choosePort) Port = FreePort.Next();
            await WritePrivateAsync(ConfigFile, Config(htpasswdFile), ct);
            var exe = ProcessRunner.Which("docker-registry") ?? "/usr/bin/docker-registry";
            Pid = DetachedProcess.Start(exe, ["serve", ConfigFile], LogFile, LogFile);
            onStarted?.Invoke(this);

            var deadline = DateTime.UtcNow.AddSeconds(30);
            bool exited;
            while (true)
            {
                if (await IsAnsweringAsync(ct)) return;
                exited = !DetachedProcess.IsAlive(Pid, "docker-registry");
                if (exited || DateTime.UtcNow > deadline) break;
                await Task.Delay(200, ct);
            }

            var why = exited ? "exited" : "did not answer 401 on /v2/ within 30 s";
            if (exited && choosePort && attempt < 3)
            {
                log?.WriteLine($"registry: {why} on port {Port} (attempt {attempt}), starting it again on another port:\n{DockerEngine.Tail(LogFile)}");
                continue;
            }
            await StopAsync(ct);
            throw new InvalidOperationException($"registry did not come up ({why}, port {Port}); see {LogFile}:\n{DockerEngine.Tail(LogFile)}");
        }
    }

    /// <summary>Logs the Docker engine in (password on stdin), so pushes and pulls work.</summary>
    public Task LoginAsync(CancellationToken ct = default) =>
        ProcessRunner.RunCheckedAsync("docker", ["login", Url, "--username", Username, "--password-stdin"],
            stdin: Password, timeout: TimeSpan.FromSeconds(30), ct: ct);

    public Task LogoutAsync(CancellationToken ct = default) =>
        ProcessRunner.RunAsync("docker", ["logout", Url], timeout: TimeSpan.FromSeconds(15), ct: ct);

    public bool IsProcessAlive => DetachedProcess.IsAlive(Pid, "docker-registry");

    /// <summary>Up means our process lives and /v2/ demands credentials (401).</summary>
    public async Task<bool> IsAnsweringAsync(CancellationToken ct = default)
    {
        if (Port == 0) return false;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync($"http://{Url}/v2/", ct);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>True when repository:tag has a manifest in this registry.</summary>
    public async Task<bool> HasManifestAsync(string repository, string tag, CancellationToken ct = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{Url}/v2/{repository}/manifests/{tag}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request, ct);
        return response.StatusCode == HttpStatusCode.OK;
    }

    public Task StopAsync(CancellationToken ct = default) =>
        DetachedProcess.StopAsync(Pid, "docker-registry", TimeSpan.FromSeconds(15), ct);

    private string Config(string htpasswdFile) => $"""
        # Written by slipway infra up; regenerated on every start.
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: {Path.Combine(Directory, "data")}
          delete:
            enabled: true
        http:
          addr: {Url}
          secret: {Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}
        auth:
          htpasswd:
            realm: slipway
            path: {htpasswdFile}
        """ + "\n";

    /// <summary>Credentials live in these files: readable by the owner only.</summary>
    internal static async Task WritePrivateAsync(string path, string content, CancellationToken ct)
    {
        await File.WriteAllTextAsync(path, "", ct);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(path, content, ct);
    }
}
