using Slipway.Embedded;

namespace Slipway.Cli.Stack;

/// <summary>
/// The whole embedded stack of `up` and `demo`: infrastructure, a build of the services, the
/// six service processes. Disposing stops the services, then the infrastructure it started.
/// </summary>
internal sealed class EmbeddedStack : IAsyncDisposable
{
    private readonly EmbeddedInfrastructure _infra;
    private readonly bool _keepInfra;

    public ServiceStack Services { get; }
    public Slipway.GerritStandIn.GerritStandIn? Gerrit { get; private set; }
    public Dictionary<string, string> Environment { get; private set; } = [];
    public string StateDir => _infra.StateDir;

    private EmbeddedStack(EmbeddedInfrastructure infra, bool keepInfra, string? logDir)
    {
        _infra = infra;
        _keepInfra = keepInfra;
        Services = new ServiceStack(logDir);
    }

    /// <summary>Starts the stack; on failure says why, cleans up, and returns null.</summary>
    /// <param name="logDir">Where the services' output goes, one file each; the terminal when null.</param>
    /// <param name="prepareGerrit">Sets up what the caller needs in Gerrit before the services start (the demo's charts project)
    /// and returns the settings that go with it.</param>
    public static async Task<EmbeddedStack?> TryStartAsync(string stateDir, bool keepInfra, CancellationToken ct, string? logDir = null,
        Func<Slipway.GerritStandIn.GerritStandIn, CancellationToken, Task<IReadOnlyDictionary<string, string>>>? prepareGerrit = null)
    {
        try
        {
            return await StartAsync(stateDir, keepInfra, logDir, prepareGerrit, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ServiceStack.Print("slipway", ConsoleColor.Red, $"could not start the stack: {e.Message}");
            return null;
        }
    }

    private static async Task<EmbeddedStack> StartAsync(string stateDir, bool keepInfra, string? logDir,
        Func<Slipway.GerritStandIn.GerritStandIn, CancellationToken, Task<IReadOnlyDictionary<string, string>>>? prepareGerrit, CancellationToken ct)
    {
        // Unless kept, the infrastructure goes with this process, also when it is killed (the reaper takes it down).
        var stack = new EmbeddedStack(keepInfra ? InfraFactory.Create(stateDir)
            : InfraFactory.CreateTiedToThisProcess(stateDir, PipelineSettings.OwnerOf(stateDir)), keepInfra, logDir);
        try
        {
            var repo = RepoPaths.Root();
            var build = DotnetBuild.BuildSolutionAsync(repo, "Release", ct);
            await stack._infra.UpAsync(new InfraUpOptions(), ct);
            if (!await build) throw new InvalidOperationException("the build failed");
            stack.Environment = InfraEnvironment.Read(stack._infra.EnvFile);
            var (gerrit, settings) = await GerritSettings.StartAsync(stack._infra.StateDir, ct);
            stack.Gerrit = gerrit;
            foreach (var (k, v) in settings) stack.Environment[k] = v;
            ServiceStack.Print("slipway", ConsoleColor.White, $"gerrit stand-in: {gerrit.HttpUrl} (REST, git), {gerrit.SshUrl} (stream-events)");
            foreach (var (k, v) in PipelineSettings.Create(stack._infra.StateDir, System.Environment.UserName,
                         stack.Environment.GetValueOrDefault("Slipway__BaseImage"))) stack.Environment[k] = v;
            if (prepareGerrit is not null)
                foreach (var (k, v) in await prepareGerrit(gerrit, ct)) stack.Environment[k] = v;
            stack.Services.Start(repo, "Release", stack.Environment);
            await stack.Services.WaitUntilReadyAsync(TimeSpan.FromSeconds(120), ct);
            PipelineSettings.Save(stack._infra.StateDir, new PipelineSettings.StackFile(stack.Services.UrlOf("deployer"),
                PipelineSettings.TokenOf(stack.Environment), stack.Services.UrlOf("reporter"), System.Environment.UserName));
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (Gerrit is not null) await Gerrit.DisposeAsync();
        if (_keepInfra)
        {
            ServiceStack.Print("slipway", ConsoleColor.White, $"infrastructure left running: `slipway infra down --state {_infra.StateDir}` stops it");
            return;
        }
        // What the deployer started goes with the stack, as the reaper would take it were this process killed.
        await DeployedContainers.RemoveAsync(PipelineSettings.OwnerOf(_infra.StateDir), CancellationToken.None);
        await _infra.DownAsync(CancellationToken.None);
    }
}
