using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// The six services as separate processes against the stand-in, the embedded Kafka and Postgres, the real
/// Docker engine and registry, each with its own schema and the test's own topic prefix. Deployed containers
/// get a per-test service name (from the project name), so they are found and removed even when the test fails.
/// </summary>
public sealed class PipelineEnvironment : IAsyncDisposable
{
    public static readonly (string Name, string Dir, string Assembly)[] Services =
    [
        ("gateway", "gerrit-gateway", "Slipway.GerritGateway"), ("builder", "builder", "Slipway.Builder"),
        ("tester", "tester", "Slipway.Tester"), ("publisher", "publisher", "Slipway.Publisher"),
        ("deployer", "deployer", "Slipway.Deployer"), ("reporter", "reporter", "Slipway.Reporter"),
    ];

    private readonly Dictionary<string, ServiceProcess> _running = new();
    private readonly Dictionary<string, string?> _settings;
    private readonly string _workDir;

    public GerritServiceEnvironment Gerrit { get; }
    public string Project { get; }
    public string Service { get; }
    public string Approver { get; } = "release-manager";
    public string Token { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
    public string ConfigRepository { get; }
    public string SchemaPrefix { get; }
    /// <summary>The deployer's <c>slipway.owner</c> label value: the test run's id (set by <c>./slipway test</c>), then this environment's.</summary>
    public string Owner => (Environment.GetEnvironmentVariable("Slipway__TestRun") is { Length: > 0 } run ? run : "adhoc") + "." + SchemaPrefix;
    public TopicRecorder PipelineEvents { get; }

    private PipelineEnvironment(GerritServiceEnvironment gerrit, string project, IReadOnlyDictionary<string, string?>? extra)
    {
        Gerrit = gerrit;
        Project = project;
        Service = project.Split('/')[^1];
        SchemaPrefix = TestInfrastructure.UniqueName("e");
        PipelineEvents = new TopicRecorder(gerrit.PipelineTopic);
        _workDir = Directory.CreateTempSubdirectory("slipway-e2e-").FullName;
        ConfigRepository = Path.Combine(_workDir, "config-registry.git");
        _settings = new Dictionary<string, string?>
        {
            ["Docker__Endpoint"] = Require("Docker__Endpoint"),
            ["Registry__Url"] = Require("Registry__Url"),
            ["Registry__Username"] = Require("Registry__Username"),
            ["Registry__Password"] = Require("Registry__Password"),
            ["Builder__WorkDir"] = Path.Combine(_workDir, "builder"),
            ["Artifacts__Directory"] = Path.Combine(_workDir, "artifacts"),
            ["ConfigRegistry__RepositoryUrl"] = ConfigRepository,
            ["ConfigRegistry__WorkDir"] = Path.Combine(_workDir, "deployer"),
            ["ConfigRegistry__CreateIfMissing"] = "true",
            ["Deployer__Approvers__0"] = Approver,
            [$"Deployer__ApiTokens__{Token}"] = Approver,
            ["Deployer__Environments__staging__Replicas"] = "1",
            ["Deployer__Environments__production__Replicas"] = "2",
            // Every container the deployer creates carries this test's identity under the test run's, for the sweeps.
            ["Deployer__Docker__Owner"] = Owner,
            // And every container and network the tester creates: a tester a test kills leaves none behind the sweep.
            ["Tester__Owner"] = Owner,
            ["Jobs__LeaseSeconds"] = "6",
            ["Tester__SmokeForwarderImage"] = Require("Slipway__BaseImage"),
            ["Reporter__ProgressComments"] = "false",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    /// <param name="extra">Settings added to (or replacing) the services' defaults, e.g. trigger rules or more API tokens.</param>
    /// <param name="forProject">More settings that name the test's project (given its name), e.g. an allow-list.</param>
    public static async Task<PipelineEnvironment> StartAsync(string projectPrefix, IReadOnlyDictionary<string, string?>? extra = null,
        Func<string, IReadOnlyDictionary<string, string?>>? forProject = null)
    {
        var gerrit = await GerritServiceEnvironment.StartAsync();
        var project = $"{projectPrefix}/hello-{Guid.NewGuid().ToString("N")[..8]}";
        var settings = (extra ?? new Dictionary<string, string?>()).Concat(forProject?.Invoke(project) ?? new Dictionary<string, string?>())
            .ToDictionary();
        var env = new PipelineEnvironment(gerrit, project, settings);
        try
        {
            await gerrit.Gerrit.CreateProjectAsync(env.Project);
            // The embedded broker creates a topic on its first message; an event no service acts on creates both.
            var warmup = EventEnvelope.Create(new GerritEvent
            {
                Type = "project-created", Project = env.Project, EventCreatedOn = DateTimeOffset.UtcNow, Source = GerritEventSource.Stream,
                Raw = JsonDocument.Parse("{}").RootElement,
            }, "slipway/test");
            await gerrit.Kafka.ProduceAsync(gerrit.GerritTopic, env.Project, warmup);
            await gerrit.Kafka.ProduceAsync(gerrit.PipelineTopic, env.Project, warmup);
            foreach (var s in Services) env.Start(s.Name);
            // The gateway consumes nothing; it is ready when Gerrit's stream is connected (below).
            foreach (var (name, s) in env._running.Where(r => r.Key != "gateway")) await s.WaitUntilAssignedAsync(TimeSpan.FromSeconds(60));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (gerrit.Gerrit.StreamConnections == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
            return env;
        }
        catch
        {
            await env.DisposeAsync();
            throw;
        }
    }

    public string BaseImage => Require("Slipway__BaseImage");

    /// <summary>The run artifact directory the tester, builder and reporter share (PipelineLib's <c>copy</c>).</summary>
    public string ArtifactsDirectory => Path.Combine(_workDir, "artifacts");

    public ServiceProcess this[string name] => _running[name];

    public string UrlOf(string name) => $"http://127.0.0.1:{_running[name].Port}";

    private int? _reporterPort;

    public void Start(string name)
    {
        var (_, dir, assembly) = Services.Single(s => s.Name == name);
        // A free port can be taken by someone else (a container publishing a port) before the service binds it: try another.
        for (var attempt = 1; ; attempt++)
        {
            // The reporter keeps its port across restarts: it is its public URL, in every comment and check link.
            int? port = null;
            // The builder plans `${<stage>.artifactURLs}` as links to the reporter (whose port is chosen here, once).
            if (name == "builder") _settings.TryAdd("Pipeline__ArtifactBaseUrl", $"http://127.0.0.1:{_reporterPort ??= Slipway.Embedded.FreePort.Next()}");
            if (name == "reporter")
            {
                port = _reporterPort ??= Slipway.Embedded.FreePort.Next();
                _settings["Reporter__PublicUrl"] = $"http://127.0.0.1:{port}";
                // The environments page passes approvals to the deployer's API (started before the reporter).
                if (_running.ContainsKey("deployer")) _settings["Reporter__DeployerUrl"] = UrlOf("deployer");
            }
            var process = Gerrit.StartService(dir, assembly, $"{SchemaPrefix}_{name}", _settings, port);
            _running[name] = process;
            if (attempt == 3 || !LostItsPort(process)) return;
            if (name == "reporter") _reporterPort = null;
        }
    }

    private static bool LostItsPort(ServiceProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) return process.Output.Contains("address already in use");
            try
            {
                using var response = process.GetAsync("/healthz").GetAwaiter().GetResult();
                return false;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            Thread.Sleep(200);
        }
        return false;
    }

    /// <summary>kill -9 and start again with the same settings (same schema and consumer group).</summary>
    public async Task KillAndRestartAsync(string name)
    {
        _running[name].KillHard();
        await _running[name].WaitForExitAsync(TimeSpan.FromSeconds(10));
        Start(name);
        if (name != "gateway") await _running[name].WaitUntilAssignedAsync(TimeSpan.FromSeconds(60));
    }

    public string Output => Gerrit.Output;

    /// <summary>The configuration registry's commits touching a values file, newest first: subject and body.</summary>
    public string[] ConfigLog(string environment) => Git(ConfigRepository, "log", "--format=%s%n%b%x1e", "--",
        $"environments/{environment}/{Service}.yaml").Split('\u001e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string Git(string repo, params string[] args)
    {
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("--git-dir");
        info.ArgumentList.Add(repo);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    /// <summary>Names of the deployed containers of this test's service, running or not.</summary>
    public async Task<string[]> DeployedContainersAsync(string? environment = null)
    {
        var filter = environment is null ? [] : new[] { "--filter", $"label=slipway.environment={environment}" };
        var result = await Slipway.Embedded.ProcessRunner.RunAsync("docker",
            ["ps", "--format", "{{.Names}}", "--filter", $"label=slipway.service={Service}", .. filter]);
        return result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order().ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Exception? stopFailure = null;
        try
        {
            PipelineEvents.Dispose();
            await Gerrit.DisposeAsync(); // stops the services first: a running deployer could create a candidate after the sweep
        }
        catch (Exception e) { stopFailure = e; } // the sweep below runs all the same
        var swept = await Slipway.Embedded.DeployedContainerSweep.RemoveAsync(Owner);
        var ids = await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["ps", "-aq", "--filter", $"label=slipway.service={Service}"]);
        var list = ids.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length > 0) await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["rm", "-f", .. list]);
        // Images the builder made for this test's runs (labelled with the project).
        var images = await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["images", "-q", "--filter", $"label=slipway.project={Project}"]);
        var imageIds = images.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        if (imageIds.Length > 0) await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["rmi", "-f", .. imageIds]);
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (stopFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopFailure);
        if (swept.Remaining.Count > 0)
            throw new InvalidOperationException($"deployed containers of {Owner} could not be removed: {string.Join(", ", swept.Remaining)}");
    }

    private static string Require(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
        ? v : throw new InvalidOperationException($"{name} is not set: run the tests through `./slipway test`");
}
