using Npgsql;

namespace Slipway.Embedded;

/// <summary>
/// A throwaway PostgreSQL cluster from Debian's binaries, living in one directory and
/// listening on 127.0.0.1 only. Durability is switched off: the data is disposable.
/// </summary>
public sealed class PostgresCluster
{
    public const string Database = "slipway";

    public string Directory { get; }
    public string DataDir => Path.Combine(Directory, "data");
    public string SocketDir { get; }
    public string LogFile => Path.Combine(Directory, "postgres.log");
    public int Port { get; private set; }

    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={Database};Pooling=true;Maximum Pool Size=50";

    public PostgresCluster(string directory, int port = 0)
    {
        Directory = ReachableByPostgres(Path.GetFullPath(directory));
        Port = port;
        // A Unix socket path may not exceed 107 bytes; deep state dirs get a short one in /tmp.
        var sock = Path.Combine(Directory, "sock");
        SocketDir = sock.Length <= 80
            ? sock
            : Path.Combine(Path.GetTempPath(), "slipway-pg-" + Convert.ToHexString(
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Directory)))[..12].ToLowerInvariant());
    }

    /// <summary>
    /// As root the cluster runs as the postgres user, which must traverse every parent of its directory. A
    /// checkout under a directory only its owner may enter (root's home, a 0700 temp dir) cannot host it there,
    /// so the cluster then lives in /var/lib/slipway under a name derived from the requested path: the same
    /// requested directory always maps to the same place, so `infra down` finds the cluster `infra up` started.
    /// </summary>
    public static string ReachableByPostgres(string requested)
    {
        if (!Posix.IsRoot || OthersCanTraverseParentsOf(requested)) return requested;
        var name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requested)))[..16];
        return Path.Combine(ReachableRoot, $"postgres-{name.ToLowerInvariant()}");
    }

    /// <summary>Where clusters go whose requested directory the postgres user cannot reach.</summary>
    public const string ReachableRoot = "/var/lib/slipway";

    private static bool OthersCanTraverseParentsOf(string path)
    {
        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (!System.IO.Directory.Exists(dir)) continue; // created later with the default (traversable) mode
            if ((File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) == 0) return false;
        }
        return true;
    }

    /// <summary>Debian's newest installed PostgreSQL bin directory, installing PostgreSQL if none is.</summary>
    public static async Task<string> FindBinDirAsync(TextWriter? log = null, CancellationToken ct = default)
    {
        var found = FindBinDir();
        if (found is not null) return found;
        await DebianPackages.EnsureInstalledAsync(["postgresql"], log, ct);
        return FindBinDir() ?? throw new InvalidOperationException("postgresql installed, but no /usr/lib/postgresql/*/bin/initdb");
    }

    private static string? FindBinDir()
    {
        const string root = "/usr/lib/postgresql";
        if (!System.IO.Directory.Exists(root)) return null;
        return System.IO.Directory.GetDirectories(root)
            .Select(d => (dir: d, version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
            .Where(x => x.version >= 0 && File.Exists(Path.Combine(x.dir, "bin", "initdb")))
            .OrderByDescending(x => x.version)
            .Select(x => Path.Combine(x.dir, "bin"))
            .FirstOrDefault();
    }

    /// <summary>initdb when needed, start on a free port (or the given one), create the database.</summary>
    public async Task StartAsync(TextWriter? log = null, CancellationToken ct = default)
    {
        var bin = await FindBinDirAsync(log, ct);
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(SocketDir);
        await GiveToPostgresUserAsync(ct);

        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
        {
            await RunAsPostgresAsync("initdb", Path.Combine(bin, "initdb"),
                ["-D", DataDir, "-A", "trust", "-U", "postgres", "--encoding=UTF8", "--no-sync"], ct);
        }

        if (Port == 0) Port = FreePort.Next();
        // fsync and friends off: this cluster is throwaway, and speed matters more than crash safety.
        var serverOptions =
            $"-c listen_addresses=127.0.0.1 -p {Port} -k {SocketDir} -c fsync=off -c synchronous_commit=off " +
            "-c full_page_writes=off -c max_connections=300";
        await RunAsPostgresAsync("pg_ctl start", Path.Combine(bin, "pg_ctl"),
            ["start", "-D", DataDir, "-l", LogFile, "-w", "-t", "60", "-o", serverOptions], ct);

        await WaitUntilAcceptingAsync(ct);
        await CreateDatabaseAsync(ct);
    }

    /// <summary>True when the server in this directory runs and answers on the recorded port.</summary>
    public async Task<bool> IsRunningAsync(CancellationToken ct = default)
    {
        if (Port == 0 || !File.Exists(Path.Combine(DataDir, "postmaster.pid"))) return false;
        try
        {
            await using var conn = new NpgsqlConnection(AdminConnectionString(Database) + ";Timeout=3");
            await conn.OpenAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>pg_ctl stop -m fast; a no-op when nothing runs in the data directory.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (!File.Exists(Path.Combine(DataDir, "postmaster.pid"))) return;
        var bin = await FindBinDirAsync(null, ct);
        var status = await RunAsPostgresRawAsync(Path.Combine(bin, "pg_ctl"), ["status", "-D", DataDir], ct);
        if (status.ExitCode != 0) return; // 3 = not running (a stale pid file is fine)
        await RunAsPostgresAsync("pg_ctl stop", Path.Combine(bin, "pg_ctl"), ["stop", "-D", DataDir, "-m", "fast", "-w", "-t", "60"], ct);
    }

    private string AdminConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false";

    private async Task WaitUntilAcceptingAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var conn = new NpgsqlConnection(AdminConnectionString("postgres"));
                await conn.OpenAsync(ct);
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    private async Task CreateDatabaseAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(AdminConnectionString("postgres"));
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", conn);
        exists.Parameters.AddWithValue("name", Database);
        if (await exists.ExecuteScalarAsync(ct) is not null) return;
        await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", conn);
        await create.ExecuteNonQueryAsync(ct);
    }

    /// <summary>initdb refuses to run as root, so as root the cluster belongs to the postgres user.</summary>
    private async Task GiveToPostgresUserAsync(CancellationToken ct)
    {
        if (!Posix.IsRoot) return;
        await ProcessRunner.RunCheckedAsync("chown", ["-R", "postgres:postgres", Directory, SocketDir], ct: ct);
    }

    private async Task RunAsPostgresAsync(string what, string exe, string[] args, CancellationToken ct)
    {
        var r = await RunAsPostgresRawAsync(exe, args, ct);
        if (r.Succeeded) return;
        var logTail = File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(15)) : "";
        var hint = Posix.IsRoot
            ? $"\n(as root the cluster runs as the postgres user, which must be able to reach {Directory})"
            : "";
        throw new InvalidOperationException($"{what} failed (exit {r.ExitCode}):\n{r.Tail(8)}\n{logTail}".TrimEnd() + hint);
    }

    private static Task<ProcessResult> RunAsPostgresRawAsync(string exe, string[] args, CancellationToken ct) =>
        Posix.IsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", exe, .. args], timeout: TimeSpan.FromMinutes(2), ct: ct)
            : ProcessRunner.RunAsync(exe, args, timeout: TimeSpan.FromMinutes(2), ct: ct);
}
