using System.Text;

namespace Slipway.Embedded;

public sealed record InfraUpOptions(bool SkipDocker = false, bool SkipBaseImage = false);

/// <summary>
/// Brings up the embedded defaults (mock Kafka, Postgres, Docker engine, registry, base
/// image) in one state directory and writes infra.env for the services and tests.
/// Idempotent: `up` starts only what is not running; `down` stops only what it started.
/// </summary>
public sealed class EmbeddedInfrastructure
{
    private readonly string _kafkaExe;
    private readonly IReadOnlyList<string> _kafkaArgs;
    private readonly IReadOnlyDictionary<string, string>? _kafkaEnvironment;
    private readonly TextWriter _log;

    public string StateDir { get; }
    public string StateFile => Path.Combine(StateDir, "state.json");
    public string EnvFile => Path.Combine(StateDir, "infra.env");
    private string LockFile => Path.Combine(StateDir, ".lock");
    private string PostgresDir => Path.Combine(StateDir, "postgres");
    private string DockerDir => Path.Combine(StateDir, "docker");
    private string RegistryDir => Path.Combine(StateDir, "registry");
    private string BaseImageDir => Path.Combine(StateDir, "base-image");
    private string KafkaDir => Path.Combine(StateDir, "kafka");

    /// <param name="kafkaExe">with <paramref name="kafkaArgs"/>: the command that hosts the mock Kafka cluster</param>
    /// <param name="kafkaEnvironment">added to the Kafka host's environment (the parent it must not outlive, if any)</param>
    public EmbeddedInfrastructure(string stateDir, string kafkaExe, IReadOnlyList<string> kafkaArgs, TextWriter? log = null,
        IReadOnlyDictionary<string, string>? kafkaEnvironment = null)
    {
        StateDir = Path.GetFullPath(stateDir);
        _kafkaExe = kafkaExe;
        _kafkaArgs = kafkaArgs;
        _kafkaEnvironment = kafkaEnvironment;
        _log = log ?? Console.Out;
    }

    public async Task UpAsync(InfraUpOptions options, CancellationToken ct = default)
    {
        Directory.CreateDirectory(StateDir);
        using var _ = await LockAsync(ct);
        var state = InfraState.Load(StateFile);
        void Save() => state.Save(StateFile);

        await UpKafkaAsync(state, Save, ct);
        await UpPostgresAsync(state, Save, ct);
        if (!options.SkipDocker)
        {
            await UpDockerAsync(state, Save, ct);
            var registry = await UpRegistryAsync(state, Save, ct);
            if (!options.SkipBaseImage) await UpBaseImageAsync(registry, state, Save, ct);
        }
        await WriteEnvFileAsync(state, ct);
        _log.WriteLine($"env: {EnvFile}");
    }

    public async Task DownAsync(CancellationToken ct = default)
    {
        if (!Directory.Exists(StateDir))
        {
            _log.WriteLine($"nothing to stop: {StateDir} does not exist");
            return;
        }
        using (await LockAsync(ct))
        {
            var state = InfraState.Load(StateFile);
            // Each part on its own: one failure must not leave the others running.
            await Attempt("kafka", async () =>
            {
                if (state.Kafka is { } k) await KafkaHostProcess.StopAsync(k.Pid, ct);
            });
            await Attempt("registry", async () =>
            {
                if (state.Registry is not { } r) return;
                var registry = new LocalRegistry(RegistryDir, r.Port, r.Username, r.Password, r.Pid);
                if (await DockerEngine.IsAnsweringAsync(ct))
                {
                    await registry.LogoutAsync(ct);
                    // The tag names this run's registry port, which is about to go away.
                    if (state.BaseImage is { } image)
                        await ProcessRunner.RunAsync("docker", ["rmi", image], timeout: TimeSpan.FromSeconds(30), ct: ct);
                }
                await registry.StopAsync(ct);
            });
            await Attempt("postgres", async () =>
            {
                var cluster = new PostgresCluster(PostgresDir);
                await cluster.StopAsync(ct);
                // A cluster kept outside the state dir (its parents were not reachable by the postgres user) goes with it.
                if (cluster.Directory != PostgresDir)
                    await ProcessRunner.RunCheckedAsync("rm", ["-rf", "--one-file-system", cluster.Directory], ct: ct);
            });
            await Attempt("docker", async () =>
            {
                var pid = state.Docker?.StartedPid ?? 0;
                // Fallback for a state.json that missed the pid: dockerd's own pid file.
                if (pid == 0 && File.Exists(Path.Combine(DockerDir, "dockerd.pid")))
                    pid = int.TryParse(File.ReadAllText(Path.Combine(DockerDir, "dockerd.pid")).Trim(), out var filePid) ? filePid : 0;
                if (pid > 0) await new DockerEngine(DockerDir, pid).StopAsync(ct);
            });
            await Attempt("base image work dir", () => BaseImage.RemoveWorkDirAsync(BaseImageDir, ct));
        }
        await ProcessRunner.RunCheckedAsync("rm", ["-rf", "--one-file-system", StateDir], ct: ct);
        _log.WriteLine($"removed {StateDir}");
    }

    private async Task Attempt(string part, Func<Task> stop)
    {
        try
        {
            await stop();
            _log.WriteLine($"{part}: stopped");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.WriteLine($"{part}: could not stop cleanly: {e.Message}");
        }
    }

    private async Task UpKafkaAsync(InfraState state, Action save, CancellationToken ct)
    {
        if (await KafkaHostProcess.IsRunningAsync(state.Kafka, ct))
        {
            _log.WriteLine($"kafka: already running at {state.Kafka!.BootstrapServers}");
            return;
        }
        if (state.Kafka is { } stale) await KafkaHostProcess.StopAsync(stale.Pid, ct);
        var host = new KafkaHostProcess(KafkaDir, _kafkaExe, _kafkaArgs, _kafkaEnvironment);
        state.Kafka = new InfraState.KafkaPart();
        var servers = await host.StartAsync(pid => { state.Kafka.Pid = pid; save(); }, ct);
        state.Kafka.BootstrapServers = servers;
        save();
        _log.WriteLine($"kafka: {servers} (mock cluster, pid {state.Kafka.Pid})");
    }

    private async Task UpPostgresAsync(InfraState state, Action save, CancellationToken ct)
    {
        if (state.Postgres is { } p && await new PostgresCluster(PostgresDir, p.Port).IsRunningAsync(ct))
        {
            _log.WriteLine($"postgres: already running on 127.0.0.1:{p.Port}");
            return;
        }
        // A server left running from a lost state would hold the data directory.
        await new PostgresCluster(PostgresDir).StopAsync(ct);
        var cluster = new PostgresCluster(PostgresDir);
        await cluster.StartAsync(_log, ct);
        state.Postgres = new InfraState.PostgresPart { Port = cluster.Port, ConnectionString = cluster.ConnectionString };
        save();
        _log.WriteLine($"postgres: 127.0.0.1:{cluster.Port} database {PostgresCluster.Database}");
    }

    private async Task UpDockerAsync(InfraState state, Action save, CancellationToken ct)
    {
        var engine = new DockerEngine(DockerDir, state.Docker?.StartedPid ?? 0);
        if (!engine.OwnsRunningEngine) engine = new DockerEngine(DockerDir);
        await engine.EnsureRunningAsync(pid =>
        {
            state.Docker = new InfraState.DockerPart { StartedPid = pid, Endpoint = DockerEngine.Endpoint };
            save();
        }, _log, ct);
        state.Docker = new InfraState.DockerPart { StartedPid = engine.StartedPid, Endpoint = DockerEngine.Endpoint };
        save();
        _log.WriteLine(engine.StartedPid > 0
            ? $"docker: dockerd started by slipway (pid {engine.StartedPid})"
            : $"docker: using the running engine at {DockerEngine.Endpoint}");
    }

    private async Task<LocalRegistry> UpRegistryAsync(InfraState state, Action save, CancellationToken ct)
    {
        if (state.Registry is { } r)
        {
            var existing = new LocalRegistry(RegistryDir, r.Port, r.Username, r.Password, r.Pid);
            if (existing.IsProcessAlive && await existing.IsAnsweringAsync(ct))
            {
                await existing.LoginAsync(ct);
                _log.WriteLine($"registry: already running at {existing.Url}");
                return existing;
            }
            await existing.StopAsync(ct);
        }
        var registry = new LocalRegistry(RegistryDir);
        await registry.StartAsync(started =>
        {
            state.Registry = new InfraState.RegistryPart
            {
                Pid = started.Pid, Port = started.Port, Username = started.Username, Password = started.Password,
            };
            save();
        }, _log, ct);
        await registry.LoginAsync(ct);
        _log.WriteLine($"registry: {registry.Url} (user {registry.Username}, docker logged in)");
        return registry;
    }

    private async Task UpBaseImageAsync(LocalRegistry registry, InfraState state, Action save, CancellationToken ct)
    {
        var image = new BaseImage(registry, BaseImageDir);
        await image.EnsurePushedAsync(_log, ct);
        state.BaseImage = image.Reference;
        save();
        _log.WriteLine($"base image: {image.Reference}");
    }

    private async Task WriteEnvFileAsync(InfraState state, CancellationToken ct)
    {
        var env = new StringBuilder();
        if (state.Kafka?.BootstrapServers is { } servers) env.AppendLine($"Kafka__BootstrapServers={servers}");
        if (state.Postgres is { } pg) env.AppendLine($"Postgres__ConnectionString={pg.ConnectionString}");
        if (state.Docker is { } docker) env.AppendLine($"Docker__Endpoint={docker.Endpoint}");
        if (state.Registry is { } reg)
        {
            env.AppendLine($"Registry__Url=127.0.0.1:{reg.Port}");
            env.AppendLine($"Registry__Username={reg.Username}");
            env.AppendLine($"Registry__Password={reg.Password}");
        }
        if (state.BaseImage is { } image) env.AppendLine($"Slipway__BaseImage={image}");
        await LocalRegistry.WritePrivateAsync(EnvFile, env.ToString(), ct);
    }

    /// <summary>One `infra` command at a time per state directory (an flock, released on exit).</summary>
    private async Task<IDisposable> LockAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, ct);
            }
        }
    }
}
