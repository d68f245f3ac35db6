using Slipway.Embedded;
using Slipway.Hosting.Lifetime;

namespace Slipway.Cli.Stack;

/// <summary>
/// A tiny detached watchdog (`slipway infra reap`) that takes the infrastructure down (pg_ctl stop -m fast, the registry,
/// the Kafka host, a dockerd it started) once the `slipway` process that brought it up is gone, also when that process was
/// killed with SIGKILL and ran none of its own cleanup. Postgres and the registry are no .NET programs that could watch
/// their parent themselves, and only `infra down` stops Postgres cleanly.
/// </summary>
internal static class InfraReaper
{
    /// <summary>Names the process the infrastructure belongs to; a reaper downs it only while it still names its parent.</summary>
    private static string OwnerFile(string stateDir) => Path.Combine(stateDir, "owner");

    private static string LogFile(string stateDir) => Path.GetFullPath(stateDir).TrimEnd('/') + ".reaper.log";

    /// <summary>Records this process as the owner and starts the watchdog in its own session (a Ctrl-C to the terminal does not reach it).</summary>
    public static void Start(EmbeddedInfrastructure infra)
    {
        Directory.CreateDirectory(infra.StateDir);
        var parent = ParentProcess.Current;
        File.WriteAllText(OwnerFile(infra.StateDir), $"{parent.Pid}:{parent.StartTime}\n");
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
        var owner = File.Exists(OwnerFile(infra.StateDir)) ? (await File.ReadAllTextAsync(OwnerFile(infra.StateDir), ct)).Trim() : null;
        if (owner != $"{parent.Pid}:{parent.StartTime}")
        {
            Console.Out.WriteLine($"infra reap: {infra.StateDir} is no longer owned by pid {parent.Pid}: nothing to do");
            return 0;
        }
        Console.Out.WriteLine($"infra reap: pid {parent.Pid} is gone: stopping {infra.StateDir}");
        await infra.DownAsync(ct);
        return 0;
    }
}
