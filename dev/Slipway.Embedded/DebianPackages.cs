namespace Slipway.Embedded;

/// <summary>
/// Installs missing Debian packages on demand, so the embedded stack needs no manual
/// setup on a fresh CI machine (which runs as root).
/// </summary>
public static class DebianPackages
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _updated;

    public static void EnsureInstalled(params string[] packages) =>
        EnsureInstalledAsync(packages).GetAwaiter().GetResult();

    public static async Task EnsureInstalledAsync(IEnumerable<string> packages, TextWriter? log = null, CancellationToken ct = default)
    {
        log ??= Console.Out;
        await Gate.WaitAsync(ct);
        try
        {
            var missing = new List<string>();
            foreach (var p in packages)
                if (!await IsInstalledAsync(p, ct)) missing.Add(p);
            if (missing.Count == 0) return;

            var sudo = SudoPrefix();
            log.WriteLine($"installing Debian packages: {string.Join(' ', missing)}");
            if (!_updated)
            {
                // Package lists may be stale or absent on a fresh machine; refresh once per process.
                await RunAptAsync(sudo, ["apt-get", "update"], ct);
                _updated = true;
            }
            await WithServicesHeldAsync(sudo, () => RunAptAsync(sudo,
                ["apt-get", "install", "-y", "--no-install-recommends", .. missing], ct));
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task<bool> IsInstalledAsync(string package, CancellationToken ct = default)
    {
        var r = await ProcessRunner.RunAsync("dpkg-query", ["-W", "-f=${Status}", package], ct: ct);
        return r.Succeeded && r.StdOut.Contains("install ok installed", StringComparison.Ordinal);
    }

    private static async Task RunAptAsync(string[] sudo, string[] command, CancellationToken ct)
    {
        string[] full = [.. sudo, "env", "DEBIAN_FRONTEND=noninteractive", .. command];
        await ProcessRunner.RunCheckedAsync(full[0], full[1..], timeout: TimeSpan.FromMinutes(15), ct: ct);
    }

    /// <summary>Empty as root; ["sudo", "-n"] when sudo exists; otherwise a clear error.</summary>
    private static string[] SudoPrefix()
    {
        if (Posix.IsRoot) return [];
        if (ProcessRunner.Which("sudo") is not null) return ["sudo", "-n"];
        throw new InvalidOperationException(
            "missing Debian packages must be installed, but this process is not root and sudo is not available; " +
            "run as root or install them by hand");
    }

    /// <summary>
    /// Packages such as docker.io and docker-registry would start their own daemons
    /// (on default ports, outside our control). A policy-rc.d that answers 101 stops that,
    /// as in container images; it is only added when the machine has none.
    /// </summary>
    private static async Task WithServicesHeldAsync(string[] sudo, Func<Task> install)
    {
        const string policy = "/usr/sbin/policy-rc.d";
        if (File.Exists(policy) || sudo.Length > 0)
        {
            await install();
            return;
        }
        await File.WriteAllTextAsync(policy, "#!/bin/sh\n# slipway: no service starts during package installs\nexit 101\n");
        File.SetUnixFileMode(policy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                     UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                     UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try { await install(); }
        finally { File.Delete(policy); }
    }
}
