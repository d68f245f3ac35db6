using System.Globalization;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench;

/// <summary>
/// Where each service's memory goes during a burst of changes (`Slipway.Bench memory [--quick] [--variant NAME:K=V,K=V]...`):
/// for each variant (extra environment for the six services; the first is always the services as they ship), a fresh
/// stack runs one warm-up change, then N changes uploaded at once. A sampler reads every service's /proc status every
/// 100 ms and keeps the split of its highest resident set (anonymous: GC heap, native buffers, stacks; file: mapped
/// assemblies and libraries; shared memory: JIT-compiled code, which W^X double-maps through a memfd); at the end it
/// prints, per variant, each service's peak (VmHWM) and that split, so two settings compare in the same minutes.
/// </summary>
public static class MemoryBench
{
    public static async Task RunAsync(IReadOnlyDictionary<string, string> infra, BenchTable table, int burst,
        IReadOnlyList<(string Name, IReadOnlyDictionary<string, string> Environment)> variants)
    {
        var all = new List<(string Variant, IReadOnlyList<Peak> Peaks)>();
        foreach (var (name, environment) in variants.Prepend(("as shipped", new Dictionary<string, string>())))
        {
            var peaks = await RunVariantAsync(infra, burst, environment);
            all.Add((name, peaks));
            Console.WriteLine($"{name}: {string.Join(", ", peaks.Select(p => p.ToString()))}");
        }
        Console.WriteLine();
        Console.WriteLine("peak RSS (VmHWM) per service, MB; at the highest sample: anonymous / file / shared (JIT code)");
        foreach (var (variant, peaks) in all)
            Console.WriteLine($"  {variant,-28} " + string.Join("  ", peaks.Select(p => p.ToString())));
        var shipped = all[0].Peaks;
        table.Set("memory", string.Join(", ", shipped.Select(p => $"{p.Service} {p.HwmMegabytes:F0}")) + " MB (memory bench)",
            shipped.All(p => p.HwmMegabytes <= 100));
    }

    /// <summary>A service's peak (VmHWM) and the split of its highest sampled resident set (VmRSS), in MB.</summary>
    public sealed record Peak(string Service, double HwmMegabytes, double RssMegabytes, double AnonMegabytes, double FileMegabytes, double ShmemMegabytes)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Service} {HwmMegabytes:F0} ({AnonMegabytes:F0}/{FileMegabytes:F0}/{ShmemMegabytes:F0})");
    }

    private static async Task<IReadOnlyList<Peak>> RunVariantAsync(IReadOnlyDictionary<string, string> infra, int burst,
        IReadOnlyDictionary<string, string> environment)
    {
        var extra = new Dictionary<string, string>(environment)
        {
            ["Builder__MaxConcurrentBuilds"] = "2", ["Jobs__Executors"] = "4",
            ["Deployer__Environments__staging__Replicas"] = "1", ["Deployer__Environments__production__Replicas"] = "1",
        };
        await using var stack = await PipelineStack.StartAsync(infra, extra);
        var tag = stack.Prefix.TrimEnd('.');
        var highest = stack.ProcessIds.ToDictionary(p => p.Pid, p => new Peak(p.Service, 0, 0, 0, 0, 0));
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var (service, pid) in stack.ProcessIds)
                    if (Sample(service, pid) is { } now && now.RssMegabytes >= highest[pid].RssMegabytes) highest[pid] = now;
                try { await Task.Delay(100, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        try
        {
            var baseImage = infra["Slipway__BaseImage"];
            var warm = $"bench/{tag}-warm";
            await stack.Gerrit.CreateProjectAsync(warm);
            var up = await stack.Gerrit.UploadPatchsetAsync(warm, "master", SampleProject.Files(baseImage), "Bench");
            await PipelineBench.RunOfAsync(stack, up.ChangeNumber, warm);
            var uploads = await Task.WhenAll(Enumerable.Range(0, burst).Select(async i =>
            {
                var project = $"bench/{tag}-burst-{i}";
                await stack.Gerrit.CreateProjectAsync(project);
                return (project, await stack.Gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench"));
            }));
            foreach (var (project, upload) in uploads) await PipelineBench.RunOfAsync(stack, upload.ChangeNumber, project);
        }
        finally
        {
            await stop.CancelAsync();
            await sampler;
            await PipelineBench.RemoveDeployedContainersAsync(tag);
        }
        // VmHWM is the kernel's own peak; the split is that of the highest sample.
        return stack.ProcessIds.Select(p => highest[p.Pid] with { HwmMegabytes = Math.Max(highest[p.Pid].HwmMegabytes, Sample(p.Service, p.Pid)?.HwmMegabytes ?? 0) })
            .ToList();
    }

    /// <summary>The process's peak and current resident set with its split (MB); null once it has exited.</summary>
    private static Peak? Sample(string service, int pid)
    {
        try
        {
            var fields = File.ReadLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(f => f.Length == 2)
                .ToDictionary(f => f[0], f => f[1].Trim());
            double Mb(string key) => fields.TryGetValue(key, out var v) ? long.Parse(v.Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0 : 0;
            return new Peak(service, Mb("VmHWM"), Mb("VmRSS"), Mb("RssAnon"), Mb("RssFile"), Mb("RssShmem"));
        }
        catch (IOException) { return null; }
    }
}
