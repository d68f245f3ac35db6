namespace Slipway.Embedded;

/// <summary>
/// The Debian base image for builds: no public registry is reachable, so it is made with
/// debootstrap from the machine's own apt mirror, imported into Docker and pushed to the
/// local registry. The rootfs tarball is cached, so only the first run pays for debootstrap.
/// </summary>
public sealed class BaseImage
{
    public const string Repository = "slipway/debian";
    public const string Tag = "bookworm";
    private const string Suite = "bookworm";
    private const string LocalName = Repository + ":" + Tag; // in the engine, registry-independent

    private readonly LocalRegistry _registry;
    private readonly string _workDir;

    public string Reference => $"{_registry.Url}/{Repository}:{Tag}";

    public static string CacheFile => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slipway", "debian-bookworm-minbase.tar");

    public BaseImage(LocalRegistry registry, string workDir)
    {
        _registry = registry;
        _workDir = Path.GetFullPath(workDir);
    }

    /// <summary>Makes sure the registry holds the image; each step is skipped when its result exists.</summary>
    public async Task EnsurePushedAsync(TextWriter log, CancellationToken ct = default)
    {
        if (await _registry.HasManifestAsync(Repository, Tag, ct)) return;

        var inEngine = (await ProcessRunner.RunAsync("docker", ["image", "inspect", LocalName], ct: ct)).Succeeded;
        if (!inEngine)
        {
            if (!File.Exists(CacheFile)) await BuildRootfsTarballAsync(log, ct);
            log.WriteLine($"  importing {CacheFile}");
            await ProcessRunner.RunCheckedAsync("docker", ["import", CacheFile, LocalName], timeout: TimeSpan.FromMinutes(5), ct: ct);
        }
        await ProcessRunner.RunCheckedAsync("docker", ["tag", LocalName, Reference], ct: ct);
        await ProcessRunner.RunCheckedAsync("docker", ["push", Reference], timeout: TimeSpan.FromMinutes(5), ct: ct);
    }

    private async Task BuildRootfsTarballAsync(TextWriter log, CancellationToken ct)
    {
        await DebianPackages.EnsureInstalledAsync(["debootstrap"], log, ct);
        var mirror = AptMirror();
        var rootfs = Path.Combine(_workDir, "rootfs");
        await RemoveRootfsAsync(rootfs, ct);
        log.WriteLine($"  debootstrap --variant=minbase {Suite} from {mirror} (about 30 s, cached afterwards)");
        try
        {
            await ProcessRunner.RunCheckedAsync("debootstrap", ["--variant=minbase", Suite, rootfs, mirror],
                timeout: TimeSpan.FromMinutes(10), ct: ct);
            // Written beside the cache and renamed, so an interrupted run never leaves half a tarball.
            Directory.CreateDirectory(Path.GetDirectoryName(CacheFile)!);
            var partial = CacheFile + ".partial";
            await ProcessRunner.RunCheckedAsync("tar", ["--numeric-owner", "-C", rootfs, "-cf", partial, "."],
                timeout: TimeSpan.FromMinutes(5), ct: ct);
            File.Move(partial, CacheFile, overwrite: true);
        }
        finally
        {
            await RemoveRootfsAsync(rootfs, ct);
        }
    }

    /// <summary>The first mirror URI in the deb822 sources, else the first `deb` line of sources.list.</summary>
    public static string AptMirror()
    {
        const string deb822 = "/etc/apt/sources.list.d/debian.sources";
        if (File.Exists(deb822))
        {
            var uri = File.ReadLines(deb822)
                .Select(l => l.Trim())
                .FirstOrDefault(l => l.StartsWith("URIs:", StringComparison.OrdinalIgnoreCase));
            if (uri is not null) return uri["URIs:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        }
        const string classic = "/etc/apt/sources.list";
        if (File.Exists(classic))
        {
            var fields = File.ReadLines(classic)
                .Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .FirstOrDefault(f => f.Length >= 2 && f[0] == "deb");
            if (fields is not null)
                return fields.Skip(1).First(f => !f.StartsWith('[')); // skip an options block like [arch=amd64]
        }
        throw new InvalidOperationException($"no Debian mirror found in {deb822} or {classic}");
    }

    /// <summary>Removes what an interrupted run may have left in the work directory.</summary>
    public static Task RemoveWorkDirAsync(string workDir, CancellationToken ct = default) =>
        RemoveRootfsAsync(Path.Combine(Path.GetFullPath(workDir), "rootfs"), ct);

    /// <summary>
    /// debootstrap mounts proc/sys inside the target; a failed run can leave them mounted,
    /// and deleting through a mount would be a disaster. Unmount first, then delete.
    /// </summary>
    private static async Task RemoveRootfsAsync(string rootfs, CancellationToken ct)
    {
        if (!Directory.Exists(rootfs)) return;
        var mounts = File.ReadLines("/proc/mounts")
            .Select(l => l.Split(' ')[1])
            .Where(m => m == rootfs || m.StartsWith(rootfs + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length);
        foreach (var m in mounts)
            await ProcessRunner.RunAsync("umount", ["-l", m], ct: ct);
        await ProcessRunner.RunCheckedAsync("rm", ["-rf", "--one-file-system", rootfs], ct: ct);
    }
}
