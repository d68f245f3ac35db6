using System.Diagnostics;

namespace Slipway.Cli.Stack;

/// <summary>Installs the browser tests' driver: `npm ci` in tests/browser (playwright-core, pinned by its lock file).</summary>
internal static class BrowserTests
{
    public static async Task<bool> InstallAsync(string repo, CancellationToken ct)
    {
        var dir = Path.Combine(repo, "tests", "browser");
        if (Directory.Exists(Path.Combine(dir, "node_modules", "playwright-core"))) return true;
        var info = new ProcessStartInfo("npm") { WorkingDirectory = dir, UseShellExecute = false };
        foreach (var a in new[] { "ci", "--no-audit", "--no-fund" }) info.ArgumentList.Add(a);
        using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try
        {
            await npm.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            npm.Kill(entireProcessTree: true);
            Console.Error.WriteLine($"npm ci in {dir} did not finish within 5 minutes");
            return false;
        }
        if (npm.ExitCode != 0) Console.Error.WriteLine($"npm ci in {dir} failed (exit {npm.ExitCode})");
        return npm.ExitCode == 0;
    }
}
