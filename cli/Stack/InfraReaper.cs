using Slipway.Embedded;
using Slipway.Hosting.Lifetime;

namespace Slipway.Cli.Stack;

/// <summary>
/// A tiny detached watchdog (`slipway infra reap`) that takes the infrastructure down (pg_ctl stop -m fast, the registry,
/// the Kafka host, a dockerd it started) once the `slipway` process that brought it up is gone, also when that process was
/// killed with SIGKILL and ran none of its own cleanup. Postgres and the registry are no .NET programs that could watch
/// their parent themselves, and only `infra down` stops Postgres cleanly. Before that it removes the containers the stack's
/// deployers made (its <c>Deployer:Docker:Owner</c>, <see cref="DeployedContainerSweep"/>): only that owner's, never
/// another stack's or test run's on the same engine.
/// </summary>
internal static class InfraReaper
{
    /// <summary>Names the process the infrastructure belongs to; a reaper downs it only while it still names its parent.</summary>
    private static string OwnerFile(string stateDir) => Path.Combine(stateDir, "owner");

    private static string LogFile(string stateDir) => Path.GetFullPath(stateDir).TrimEnd('/') + ".reaper.log";

    /// <summary>
    /// Records this process as the owner and starts the watchdog in its own session (a Ctrl-C to the terminal does not reach it).
    /// <paramref name="deployedOwner"/>: the <c>Deployer:Docker:Owner</c> of the deployers this stack runs, whose containers go too.
    /// </summary>
    public static void Start(EmbeddedInfrastructure infra, string deployedOwner)
    {
        if (string.IsNullOrWhiteSpace(deployedOwner) || deployedOwner.Contains('\n'))
            throw new ArgumentException("a deployed-container owner is required (an empty one would match every deployer's containers)", nameof(deployedOwner));
        Directory.CreateDirectory(infra.StateDir);
        var parent = ParentProcess.Current;
        File.WriteAllText(OwnerFile(infra.StateDir), $"{parent.Pid}:{parent.StartTime}\n{deployedOwner}\n");
        var (exe, prefix) = InfraFactory.ThisProgram();
        var log = LogFile(infra.StateDir);
        DetachedProcess.Start(exe, [.. prefix, "infra", "reap", "--state", infra.StateDir], log, log,
            environment: ParentProcess.ChildEnvironment());
    }

    /// <summary>The watchdog: waits for the parent (SLIPWAY_PARENT_PID) to be gone, then downs the infrastructure if it still owns it.</summary>
    public static async Task<int> RunAsync(EmbeddedInfrastructure infra, CancellationToken ct)
    {
        var parent = ParentProcess.FromEnvironment();
        if (parent is null)
        {
            Console.Error.WriteLine($"infra reap: {ParentProcess.PidVariable} is not set: nothing to watch");
            return 2;
        }
        await parent.WaitForExitAsync(TimeSpan.FromSeconds(1), ct);
        // The owner's own cleanup removed the state directory, or a later run took it over: not ours to stop.
        var lines = File.Exists(OwnerFile(infra.StateDir)) ? await File.ReadAllLinesAsync(OwnerFile(infra.StateDir), ct) : [];
        if (lines.FirstOrDefault()?.Trim() != $"{parent.Pid}:{parent.StartTime}")
        {
            Console.Out.WriteLine($"infra reap: {infra.StateDir} is no longer owned by pid {parent.Pid}: nothing to do");
            return 0;
        }
        Console.Out.WriteLine($"infra reap: pid {parent.Pid} is gone: stopping {infra.StateDir}");
        // While the engine still runs (a dockerd the stack started stops with it); a failure here must not keep the rest up.
        if (lines.Length > 1 && lines[1].Trim() is { Length: > 0 } deployedOwner)
        {
            try
            {
                var swept = await DeployedContainerSweep.RemoveAsync(deployedOwner, ct);
                Console.Out.WriteLine($"infra reap: removed {swept.Found.Count - swept.Remaining.Count} deployed container(s) of {deployedOwner}"
                    + (swept.Remaining.Count > 0 ? $"; could not remove {string.Join(", ", swept.Remaining)}" : ""));
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                Console.Out.WriteLine($"infra reap: could not remove the deployed containers of {deployedOwner}: {e.Message}");
            }
        }
        await infra.DownAsync(ct);
        return 0;
    }
}
