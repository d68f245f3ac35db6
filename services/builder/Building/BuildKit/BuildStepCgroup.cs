using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Building.BuildKit;

/// <summary>
/// Bounds the memory, processes and CPU of all build steps together. dockerd's BuildKit ignores a build's memory, CPU
/// and cgroup-parent parameters (measured on 20.10) and runs every step in a cgroup under <c>/docker/buildkit</c>, so
/// that parent is where a limit can hold: <c>Builder:MemoryBytes</c>, <c>Builder:PidsLimit</c> and <c>Builder:Cpus</c>
/// times <c>Builder:MaxConcurrentBuilds</c>. A hostile step that forks or allocates without end is stopped by the kernel
/// there (out of memory: the step is killed and its build fails) instead of taking the host down.
/// <para>
/// Written before every build, so a restarted engine is bounded again. It needs the engine's cgroup tree on this host
/// (a local engine socket and a writable <c>/sys/fs/cgroup</c>); where it is not, the builder says so once and builds
/// unbounded, as before. Several builder instances on one engine share the parent: the last one's values hold.
/// </para>
/// </summary>
public sealed class BuildStepCgroup(BuilderOptions options, ILogger<BuildStepCgroup> logger)
{
    private const long CpuPeriodMicroseconds = 100_000;
    private int _warned;

    /// <summary>The limits for all steps together.</summary>
    public (long MemoryBytes, long Pids, long CpuQuotaMicroseconds) Limits =>
        (options.MemoryBytes * options.MaxConcurrentBuilds,
         (long)options.PidsLimit * options.MaxConcurrentBuilds,
         (long)Math.Ceiling(options.Cpus * options.MaxConcurrentBuilds * CpuPeriodMicroseconds));

    /// <summary>Writes the limits; false (after one warning) when the engine's cgroup tree is not reachable from here.</summary>
    public bool Apply()
    {
        if (string.IsNullOrEmpty(options.StepsCgroup)) return false;
        var root = options.CgroupRoot;
        var path = options.StepsCgroup.Trim('/');
        var (memory, pids, cpu) = Limits;
        try
        {
            if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            {
                // cgroup v2: one tree, the controllers' files side by side.
                var dir = Path.Combine(root, path);
                Directory.CreateDirectory(dir);
                Write(dir, "memory.max", memory.ToString());
                Write(dir, "pids.max", pids.ToString());
                Write(dir, "cpu.max", $"{cpu} {CpuPeriodMicroseconds}");
            }
            else
            {
                // cgroup v1: one tree per controller; a child's usage counts against its parent's limit.
                Write(Ensure(root, "memory", path), "memory.limit_in_bytes", memory.ToString());
                Write(Ensure(root, "pids", path), "pids.max", pids.ToString());
                var cpuDir = Ensure(root, "cpu", path);
                Write(cpuDir, "cpu.cfs_period_us", CpuPeriodMicroseconds.ToString());
                Write(cpuDir, "cpu.cfs_quota_us", cpu.ToString());
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _warned, 1) == 0)
                logger.LogWarning("Build steps run without memory, process and CPU limits: cannot bound the cgroup {Cgroup} under {Root}: {Reason}",
                    options.StepsCgroup, root, e.Message);
            return false;
        }
    }

    private static string Ensure(string root, string controller, string path)
    {
        var controllerRoot = Path.Combine(root, controller);
        if (!Directory.Exists(controllerRoot)) throw new IOException($"no {controller} controller at {controllerRoot}");
        var dir = Path.Combine(controllerRoot, path);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void Write(string dir, string file, string value)
    {
        var target = Path.Combine(dir, file);
        // Skip an unchanged value: lowering nothing is cheaper, and a memory limit rewritten below usage would fail.
        if (File.Exists(target) && File.ReadAllText(target).Trim() == value) return;
        File.WriteAllText(target, value);
    }
}
