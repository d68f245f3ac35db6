namespace Slipway.Embedded;

/// <summary>
/// The Debian base image for builds: no public registry is reachable, so it is made with
/// debootstrap from the machine's own apt mirror, imported into Docker and pushed to the
/// local registry, with the machine's own certificate authorities. The rootfs tarball is cached, so only the first
/// run pays for debootstrap.
/// </summary>
public sealed class BaseImage
{
    public const string Repository = "slipway/debian";
    public const string Tag = "bookworm";
    private const string Suite = "bookworm";
    private const string LocalName = Repository + ":" + Tag; // in the engine, registry-independent
    private const string RootfsName = Repository + ":" + Tag + "-rootfs"; // the imported tarball, before the machine's certificates

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

        var inEngine = (await ProcessRunner.RunAsync("docker", ["image", "inspect", RootfsName], ct: ct)).Succeeded;
        if (!inEngine)
        {
            if (!File.Exists(CacheFile)) await BuildRootfsTarballAsync(log, ct);
            log.WriteLine($"  importing {CacheFile}");
            await ProcessRunner.RunCheckedAsync("docker", ["import", CacheFile, RootfsName], timeout: TimeSpan.FromMinutes(5), ct: ct);
        }
        // Made again from the rootfs each time (a cached build: seconds), so a certificate added to the machine is in it.
        await AddMachineCertificatesAsync(log, ct);
        await ProcessRunner.RunCheckedAsync("docker", ["tag", LocalName, Reference], ct: ct);
        await ProcessRunner.RunCheckedAsync("docker", ["push", Reference], timeout: TimeSpan.FromMinutes(5), ct: ct);
    }

    /// <summary>Where Debian keeps the certificate authorities a machine adds to its trust store.</summary>
    private const string LocalCertificates = "/usr/local/share/ca-certificates";

    /// <summary>
    /// The machine's own certificate authorities (<c>/usr/local/share/ca-certificates/*.crt</c>: an organisation's CA, or a
    /// proxy that inspects TLS on the way to the package registries), put into the image as Debian keeps them, so an
    /// install step trusts what the machine trusts, as an organisation's base image would: <c>ca-certificates</c> (which
    /// npm and pip pull in) adds them to the system store, and Node.js, whose own list ignores that store, gets them
    /// through <c>NODE_EXTRA_CA_CERTS</c>. A machine with none adds nothing.
    /// </summary>
    private async Task AddMachineCertificatesAsync(TextWriter log, CancellationToken ct)
    {
        var certificates = Directory.Exists(LocalCertificates)
            ? Directory.GetFiles(LocalCertificates, "*.crt", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        if (certificates.Count == 0)
        {
            await ProcessRunner.RunCheckedAsync("docker", ["tag", RootfsName, LocalName], ct: ct);
            return;
        }
        var context = Path.Combine(_workDir, "base-image-certificates");
        Directory.CreateDirectory(context);
        try
        {
            var names = new List<string>();
            foreach (var (file, i) in certificates.Select((f, i) => (f, i)))
            {
                var name = $"slipway-machine-{i:D3}.crt"; // update-ca-certificates takes *.crt; no file name reaches the Dockerfile
                File.Copy(file, Path.Combine(context, name), overwrite: true);
                names.Add(name);
            }
            var bundle = string.Concat(certificates.Select(f => File.ReadAllText(f).TrimEnd() + "\n"));
            File.WriteAllText(Path.Combine(context, "machine-bundle.pem"), bundle);
            File.WriteAllText(Path.Combine(context, "Dockerfile"),
                $"FROM {RootfsName}\n" +
                $"COPY {string.Join(" ", names)} {LocalCertificates}/\n" +
                "COPY machine-bundle.pem /usr/local/share/slipway/machine-ca-bundle.pem\n" +
                "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/slipway/machine-ca-bundle.pem\n");
            log.WriteLine($"  adding the machine's {certificates.Count} certificate authorit{(certificates.Count == 1 ? "y" : "ies")} from {LocalCertificates}");
            await ProcessRunner.RunCheckedAsync("docker", ["build", "-q", "-t", LocalName, context], timeout: TimeSpan.FromMinutes(5), ct: ct);
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
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
