using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Embedded;

namespace Slipway.GerritStandIn;

/// <summary>
/// A Gerrit stand-in that is real wherever it can be: OpenSSH `sshd` whose forced command implements
/// `gerrit stream-events`, `git http-backend` serving bare repositories (patch sets under
/// `refs/changes/NN/N/P`), and an HTTP server (Kestrel) for the REST subset Slipway uses and the
/// events-log plugin. Everything listens on 127.0.0.1 on free ports and lives in a temp dir it owns.
/// </summary>
public sealed partial class GerritStandIn : IAsyncDisposable
{
    public const string Host = "127.0.0.1";

    private readonly GerritStandInOptions _options;
    private readonly SemaphoreSlim _mutex = new(1, 1);
    private readonly StreamHub _hub = new();
    private readonly List<StandInEvent> _events = [];
    private readonly List<PostedReview> _reviews = [];
    private readonly Dictionary<int, ChangeState> _changes = [];
    private readonly Dictionary<string, string> _projects = new(StringComparer.Ordinal); // name → default branch
    private readonly Dictionary<string, GerritAccount> _accounts = new(StringComparer.Ordinal); // by username
    private readonly Dictionary<string, LabelDefinition> _labels = new(StringComparer.Ordinal);
    private readonly object _faultGate = new();
    private readonly Queue<(int Status, string? PathContains)> _faults = new();
    private DateTimeOffset _unavailableUntil = DateTimeOffset.MinValue;
    private int _unavailableStatus = 503;
    private int _lostReviewAnswers;
    private WebApplication? _web;
    private Process? _sshd;
    private SshdDeathWatch? _sshdWatch;
    private GitRepos _git = null!;
    private int _nextChange = 1;
    private long _nextEventSeq;
    private int _disposed;
    private int _clientKeys;

    private GerritStandIn(string directory, GerritStandInOptions options)
    {
        WorkDirectory = directory;
        _options = options;
        foreach (var l in new[] { new LabelDefinition("Code-Review", -2, 2), new LabelDefinition("Verified", -1, 1) })
            _labels[l.Name] = l;
        Developer = AddAccount("Jane Developer", "jane@example.com", "jane");
        HttpAccount = AddAccount("Slipway Bot", "slipway-bot@example.com", options.HttpUser);
    }

    /// <summary>The temp directory the stand-in owns (removed on dispose).</summary>
    public string WorkDirectory { get; }
    public int HttpPort { get; private set; }
    public int SshPort { get; private set; }
    /// <summary>`http://127.0.0.1:PORT` — Gerrit's canonical web URL, REST base and git base.</summary>
    public string HttpUrl => $"http://{Host}:{HttpPort}";
    /// <summary>The Unix account sshd logs in (keys are authorized for it); use it as the SSH user name.</summary>
    public string SshUser { get; } = Environment.UserName;
    /// <summary>`ssh://USER@127.0.0.1:PORT`.</summary>
    public string SshUrl => $"ssh://{SshUser}@{Host}:{SshPort}";
    /// <summary>The host public key, `ssh-ed25519 AAAA...` (no comment).</summary>
    public string HostPublicKey { get; private set; } = "";
    /// <summary>A known_hosts line for the sshd: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.</summary>
    public string KnownHostsLine => $"[{Host}]:{SshPort} {HostPublicKey}";
    /// <summary>The default uploader and change owner.</summary>
    public GerritAccount Developer { get; }
    /// <summary>The account behind <see cref="GerritStandInOptions.HttpUser"/> (the one that posts reviews).</summary>
    public GerritAccount HttpAccount { get; }
    /// <summary>The pid of the listening sshd (null once stopped).</summary>
    public int? SshdPid => _sshd is { } p && !p.HasExited ? p.Id : null;
    public string HttpUser => _options.HttpUser;
    public string HttpPassword => _options.HttpPassword;

    /// <summary>Turns the events-log plugin on or off at run time (off: 404, like a server without it).</summary>
    public bool EventsLogEnabled { get => _options.EventsLogEnabled; set => _options.EventsLogEnabled = value; }

    /// <summary>Starts sshd and the HTTP server in a new temp directory under <paramref name="parentDir"/> (default: the system temp dir).</summary>
    public static async Task<GerritStandIn> StartAsync(string? parentDir = null, GerritStandInOptions? options = null, CancellationToken ct = default)
    {
        options ??= new GerritStandInOptions();
        var parent = parentDir ?? Path.GetTempPath();
        Directory.CreateDirectory(parent);
        var dir = Path.Combine(parent, $"slipway-gerrit-{Guid.NewGuid():N}"[..27]);
        Directory.CreateDirectory(dir);
        var s = new GerritStandIn(dir, options);
        try
        {
            await s.StartCoreAsync(ct);
            return s;
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken ct)
    {
        if (_options.InstallMissingPackages)
        {
            var needed = new List<string>();
            if (!File.Exists("/usr/sbin/sshd")) needed.Add("openssh-server");
            if (ProcessRunner.Which("curl") is null) needed.Add("curl");
            if (ProcessRunner.Which("ssh-keygen") is null) needed.Add("openssh-client");
            if (ProcessRunner.Which("git") is null) needed.Add("git");
            if (needed.Count > 0)
                await DebianPackages.EnsureInstalledAsync(needed, new LogWriter(_options.Log), ct);
        }
        if (!File.Exists("/usr/sbin/sshd"))
            throw new InvalidOperationException("/usr/sbin/sshd is missing: install Debian's openssh-server");

        var gitRoot = Path.Combine(WorkDirectory, "git");
        Directory.CreateDirectory(gitRoot);
        _git = new GitRepos(gitRoot);
        await StartPushReceiverAsync(ct); // GitPush.cs
        await StartHttpAsync(ct);
        await StartSshdAsync(ct);
    }

    private async Task StartHttpAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = WorkDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 512L * 1024 * 1024;
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(ct);
        _web = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        HttpPort = new Uri(address).Port;
    }

    private async Task StartSshdAsync(CancellationToken ct)
    {
        var sshDir = Path.Combine(WorkDirectory, "ssh");
        Directory.CreateDirectory(sshDir);
        var hostKey = Path.Combine(sshDir, "ssh_host_ed25519_key");
        await ProcessRunner.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gerrit-stand-in", "-f", hostKey], ct: ct);
        var pub = (await File.ReadAllTextAsync(hostKey + ".pub", ct)).Trim().Split(' ');
        HostPublicKey = pub[0] + " " + pub[1];
        await File.WriteAllTextAsync(AuthorizedKeysPath, "", ct);

        var command = Path.Combine(sshDir, "gerrit-command");
        await File.WriteAllTextAsync(command, ForcedCommandScript(HttpPort), ct);
        File.SetUnixFileMode(command, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                      UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        if (!Directory.Exists("/run/sshd"))
        {
            Directory.CreateDirectory("/run/sshd");
            File.SetUnixFileMode("/run/sshd", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                              UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++) // a free port can be taken between probe and bind
        {
            SshPort = FreePort.Next();
            var config = Path.Combine(sshDir, "sshd_config");
            await File.WriteAllTextAsync(config, $"""
                # Gerrit stand-in sshd: serves only `gerrit stream-events` through the forced command.
                Port {SshPort}
                ListenAddress {Host}
                HostKey {hostKey}
                PidFile {Path.Combine(sshDir, "sshd.pid")}
                AuthorizedKeysFile {AuthorizedKeysPath}
                StrictModes no
                UsePAM no
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                ForceCommand {command}
                PermitTTY no
                AllowTcpForwarding no
                AllowAgentForwarding no
                X11Forwarding no
                PermitTunnel no
                PrintMotd no
                PrintLastLog no
                PermitUserEnvironment no
                LogLevel INFO

                """, ct);
            var psi = new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", config])
            {
                RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            var sshdLog = new StringBuilder();
            var p = new Process { StartInfo = psi };
            p.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (sshdLog) sshdLog.AppendLine(e.Data);
                _options.Log?.Invoke("sshd: " + e.Data);
            };
            p.OutputDataReceived += (_, e) => { if (e.Data is not null) _options.Log?.Invoke("sshd: " + e.Data); };
            p.Start();
            p.BeginErrorReadLine();
            p.BeginOutputReadLine();
            _sshd = p;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < deadline && !p.HasExited)
            {
                if (await FreePort.IsListeningAsync(SshPort, ct))
                {
                    // sshd outlives a killed host process unless something stops it then.
                    _sshdWatch = SshdDeathWatch.Start(p.Id);
                    return;
                }
                await Task.Delay(50, ct);
            }
            await StopSshdAsync();
            lock (sshdLog) last = new InvalidOperationException($"sshd did not start on {Host}:{SshPort}:\n{sshdLog}");
        }
        throw last!;
    }

    private string AuthorizedKeysPath => Path.Combine(WorkDirectory, "ssh", "authorized_keys");

    /// <summary>
    /// The forced command: parses `$SSH_ORIGINAL_COMMAND` like Gerrit's command dispatcher, and for
    /// `gerrit stream-events [-s TYPE]...` relays the live stream from the stand-in's HTTP server.
    /// </summary>
    private static string ForcedCommandScript(int httpPort) => $$"""
        #!/bin/bash
        # Gerrit stand-in: sshd ForceCommand implementing `gerrit stream-events`.
        set -u
        read -r -a argv <<< "${SSH_ORIGINAL_COMMAND:-}"
        if [ ${#argv[@]} -eq 0 ]; then
          printf '\n  ****    Welcome to Gerrit Code Review    ****\n\n  Hi %s, you have successfully connected over SSH.\n\n  Unfortunately, interactive shells are disabled.\n\n' "$(id -un)" >&2
          exit 127
        fi
        if [ "${argv[0]}" != "gerrit" ]; then
          echo "fatal: Gerrit Code Review: ${argv[0]}: not found" >&2; exit 1
        fi
        if [ ${#argv[@]} -lt 2 ]; then
          printf 'fatal: Available commands of gerrit are:\n\n   stream-events   Monitor events occurring in real time\n\nSee '"'"'gerrit COMMAND --help'"'"' for more information.\n\n' >&2
          exit 1
        fi
        if [ "${argv[1]}" != "stream-events" ]; then
          echo "fatal: gerrit: ${argv[1]}: not found" >&2; exit 1
        fi
        query=""
        i=2
        while [ $i -lt ${#argv[@]} ]; do
          a="${argv[$i]}"
          case "$a" in
            -s|--subscribe)
              i=$((i+1))
              if [ $i -ge ${#argv[@]} ]; then echo "fatal: Option \"$a\" takes an operand" >&2; exit 1; fi
              t="${argv[$i]}" ;;
            --subscribe=*) t="${a#--subscribe=}" ;;
            -h|--help)
              printf 'gerrit stream-events [--] [--help (-h)] [--subscribe (-s) VAL]\n\n --                 : end of options\n --help (-h)        : display this help text\n --subscribe (-s)   : subscribe to specific stream-events\n\n' >&2
              exit 0 ;;
            *) echo "fatal: \"$a\" is not a valid option" >&2; exit 1 ;;
          esac
          case "$t" in
            *[!a-z0-9-]*|"") echo "fatal: \"$t\" is not a valid event type" >&2; exit 1 ;;
          esac
          query="${query}&s=${t}"
          i=$((i+1))
        done
        exec curl --silent --show-error --no-buffer --fail "http://127.0.0.1:{{httpPort}}/_standin/stream?user=$(id -un)${query}"

        """;

    /// <summary>Registers an OpenSSH public key line (`ssh-ed25519 AAAA... comment`) as allowed to connect.</summary>
    public void AddAuthorizedKey(string publicKeyLine)
    {
        var line = publicKeyLine.Trim();
        if (line.Contains('\n')) throw new ArgumentException("one key per call");
        lock (_faultGate) File.AppendAllText(AuthorizedKeysPath, "restrict " + line + "\n");
    }

    /// <summary>Creates an ed25519 client key pair (OpenSSH format, no passphrase) in the temp dir and authorizes it.</summary>
    public async Task<(string PrivateKeyPath, string PublicKeyLine)> CreateClientKeyAsync(CancellationToken ct = default)
    {
        var path = Path.Combine(WorkDirectory, "ssh", $"client_key_{Interlocked.Increment(ref _clientKeys)}");
        await ProcessRunner.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "slipway-gateway", "-f", path], ct: ct);
        var pub = (await File.ReadAllTextAsync(path + ".pub", ct)).Trim();
        AddAuthorizedKey(pub);
        return (path, pub);
    }

    /// <summary>
    /// Kills every SSH session (the per-connection sshd processes and what they run) but keeps sshd
    /// listening: clients see their stream end and can reconnect.
    /// </summary>
    public int CutSshConnections()
    {
        var killed = 0;
        if (SshdPid is { } pid)
            foreach (var child in ProcessTree.Descendants(pid))
                if (ProcessTree.Kill(child, 9)) killed++;
        _hub.EndAll();
        return killed;
    }

    /// <summary>Every open stream-events connection gets a `dropped-output` event now (as on a queue overflow).</summary>
    public void EmitDroppedOutput() => _hub.DropAll();

    /// <summary>
    /// Sends <paramref name="line"/> as it is on every stream-events connection: what a broken or hostile server
    /// could send (not JSON, oversized, a JSON event of an unknown shape). A real Gerrit never does.
    /// </summary>
    public void EmitRawLine(string line)
    {
        if (line.Contains('\n')) throw new ArgumentException("one line, without a newline", nameof(line));
        _hub.PublishRaw(line);
    }

    /// <summary>
    /// Sends each of <paramref name="lines"/> as it is on every stream-events connection, in order, waiting while a
    /// connection's queue (128 events, as Gerrit's) is full instead of dropping: replaying a prepared event file as fast
    /// as the clients read it. For benchmarks; a real Gerrit drops instead (see <see cref="EmitRawLine"/>).
    /// </summary>
    public async Task ReplayRawLinesAsync(IEnumerable<string> lines, CancellationToken ct = default)
    {
        foreach (var line in lines)
        {
            if (line.Contains('\n')) throw new ArgumentException("one line each, without a newline", nameof(lines));
            await _hub.PublishRawWaitingAsync(line, ct);
        }
    }

    /// <summary>Number of live stream-events connections.</summary>
    public int StreamConnections => _hub.Count;

    /// <summary>
    /// Stream-events connections subscribed since the start, counted once events reach them (<see cref="EmitRawLine"/> goes
    /// only to those). Never goes down: a killed client's session may stay subscribed until its next line, so
    /// <see cref="StreamConnections"/> cannot tell a new subscription from an old one.
    /// </summary>
    public long StreamSubscriptions => _hub.Subscribed;

    /// <summary>Fails the next <paramref name="count"/> REST requests (whose path contains <paramref name="pathContains"/>) with <paramref name="status"/>.</summary>
    public void FailNextRequests(int count, int status = 500, string? pathContains = null)
    {
        lock (_faultGate)
            for (var i = 0; i < count; i++) _faults.Enqueue((status, pathContains));
    }

    /// <summary>
    /// Gerrit is down for <paramref name="duration"/> as its reverse proxy shows it: every REST request
    /// answers <paramref name="status"/> (503 by default) until then. SSH and git are not affected.
    /// </summary>
    public void BeUnavailableFor(TimeSpan duration, int status = 503)
    {
        lock (_faultGate)
        {
            _unavailableUntil = DateTimeOffset.UtcNow + duration;
            _unavailableStatus = status;
        }
    }

    /// <summary>Gerrit is back now (ends <see cref="BeUnavailableFor"/> early).</summary>
    public void BeAvailable()
    {
        lock (_faultGate) _unavailableUntil = DateTimeOffset.MinValue;
    }

    /// <summary>
    /// The next <paramref name="count"/> reviews are applied (the comment and votes are on the change) but
    /// their answer is lost on the way back: the client sees 502, as from a proxy whose upstream timed out.
    /// </summary>
    public void LoseNextReviewAnswers(int count)
    {
        lock (_faultGate) _lostReviewAnswers += count;
    }

    /// <summary>Reviews posted through REST to change <paramref name="changeNumber"/>, in order.</summary>
    public IReadOnlyList<PostedReview> Reviews(int changeNumber)
    {
        lock (_reviews) return _reviews.Where(r => r.ChangeNumber == changeNumber).ToList();
    }

    /// <summary>The accounts added as reviewers of change <paramref name="changeNumber"/> (push option <c>r=</c>), in order.</summary>
    public IReadOnlyList<GerritAccount> Reviewers(int changeNumber)
    {
        List<int> ids;
        _mutex.Wait();
        try { ids = _changes.GetValueOrDefault(changeNumber)?.Reviewers.ToList() ?? []; }
        finally { _mutex.Release(); }
        lock (_accounts) return [.. ids.Select(id => _accounts.Values.First(a => a.Id == id))];
    }

    /// <summary>Every event emitted so far, in order.</summary>
    public IReadOnlyList<StandInEvent> Events()
    {
        lock (_events) return [.. _events];
    }

    public GerritAccount AddAccount(string name, string email, string username, bool serviceUser = false)
    {
        lock (_accounts)
        {
            if (_accounts.TryGetValue(username, out var existing)) return existing;
            var a = new GerritAccount(1000000 + _accounts.Count, name, email, username, serviceUser);
            _accounts[username] = a;
            return a;
        }
    }

    /// <summary>Adds or replaces a label definition (Code-Review -2..+2 and Verified -1..+1 exist).</summary>
    public void DefineLabel(LabelDefinition label) { lock (_labels) _labels[label.Name] = label; }

    private string Emit(JsonObject ev, string? project)
    {
        var type = (string)ev["type"]!;
        StandInEvent rec;
        lock (_events)
        {
            if (_options.InstanceId is { } id) ev["instanceId"] = id;
            var json = ev.ToJsonString();
            rec = new StandInEvent(++_nextEventSeq, type, json, (long)ev["eventCreatedOn"]!, project);
            _events.Add(rec);
            _hub.Publish(type, json); // under the lock, so every connection sees the log's order
        }
        return rec.Json;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _hub.EndAll();
        await StopSshdAsync();
        _pushReceiver?.Dispose();
        if (_web is not null)
        {
            try { using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)); await _web.StopAsync(stop.Token); } catch (Exception) { }
            await _web.DisposeAsync();
        }
        if (!_options.KeepDirectory)
            try { Directory.Delete(WorkDirectory, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private async Task StopSshdAsync()
    {
        Interlocked.Exchange(ref _sshdWatch, null)?.Dispose();
        var p = _sshd;
        if (p is null) return;
        _sshd = null;
        try
        {
            if (!p.HasExited)
            {
                var children = ProcessTree.Descendants(p.Id);
                ProcessTree.Kill(p.Id, 15);
                foreach (var c in children) ProcessTree.Kill(c, 9);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await p.WaitForExitAsync(cts.Token); }
                catch (OperationCanceledException) { ProcessTree.Kill(p.Id, 9); await p.WaitForExitAsync(); }
                foreach (var c in ProcessTree.Descendants(p.Id)) ProcessTree.Kill(c, 9);
            }
        }
        catch (InvalidOperationException) { }
        finally { p.Dispose(); }
    }

    private sealed class LogWriter(Action<string>? log) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void WriteLine(string? value) => log?.Invoke(value ?? "");
        public override void Write(char value) { }
    }
}

/// <summary>Process tree walking through /proc, and signals.</summary>
internal static class ProcessTree
{
    public static bool Kill(int pid, int signal) => Posix.Kill(pid, signal);

    public static bool IsAlive(int pid)
    {
        var stat = StatOf(pid);
        return stat is not null && stat.Value.State != 'Z';
    }

    /// <summary>All descendants of <paramref name="root"/>, children before grandchildren.</summary>
    public static List<int> Descendants(int root)
    {
        var byParent = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            if (StatOf(pid) is not { } s) continue;
            if (!byParent.TryGetValue(s.Ppid, out var list)) byParent[s.Ppid] = list = [];
            list.Add(pid);
        }
        var result = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.Count > 0)
            if (byParent.TryGetValue(queue.Dequeue(), out var kids))
                foreach (var k in kids) { result.Add(k); queue.Enqueue(k); }
        return result;
    }

    private static (char State, int Ppid)? StatOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var f = stat[(close + 2)..].Split(' ');
            return (f[0][0], int.Parse(f[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
