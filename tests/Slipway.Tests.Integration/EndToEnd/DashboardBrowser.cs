using System.Diagnostics;
using System.Text.Json;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A real browser on the dashboard: tests/browser/dashboard.js drives Debian's chromium (headless, through npm's
/// playwright-core, both installed by `./slipway test`) while a run goes on. Started when the run starts, it
/// watches the runs list move without reloading, opens the run and a step's log, and saves screenshots of each
/// page (also at a phone's width) under TestResults/screenshots/.
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);
    private readonly Process _node;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public string ScreenshotDir { get; }

    private DashboardBrowser(Process node, string screenshots)
    {
        _node = node;
        ScreenshotDir = screenshots;
        _stdout = node.StandardOutput.ReadToEndAsync();
        _stderr = node.StandardError.ReadToEndAsync();
    }

    public static DashboardBrowser Start(string reporterUrl, string project, string runId, string name) =>
        StartScript("dashboard.js", name, new Dictionary<string, string>(), reporterUrl, project, runId);

    /// <summary>Runs one of tests/browser's scripts with <paramref name="args"/> and the screenshot directory last; secrets go in <paramref name="environment"/>.</summary>
    public static DashboardBrowser StartScript(string script, string name, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dir = Path.Combine(TestInfrastructure.RepoRoot, "tests", "browser");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "playwright-core")))
            throw new InvalidOperationException($"playwright-core is not installed in {dir}: run the tests through `./slipway test`, which runs npm ci there");
        var screenshots = Path.Combine(TestInfrastructure.RepoRoot, "TestResults", "screenshots", name);
        var info = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Prepend(script).Append(screenshots)) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        return new DashboardBrowser(Process.Start(info) ?? throw new InvalidOperationException("node did not start"), screenshots);
    }

    /// <summary>Waits for the browser script; returns what it saw, or fails with its error.</summary>
    public async Task<JsonElement> SeenAsync()
    {
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the browser script did not finish within {Limit.TotalMinutes} min");
        }
        var (stdout, stderr) = (await _stdout, await _stderr);
        Assert.True(_node.ExitCode == 0, $"the browser script failed ({_node.ExitCode}): {stderr}");
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return doc.RootElement.Clone();
    }

    public ValueTask DisposeAsync()
    {
        if (!_node.HasExited) _node.Kill(entireProcessTree: true);
        _node.Dispose();
        return ValueTask.CompletedTask;
    }
}
