using System.Diagnostics;

namespace Slipway.Cli.Stack;

/// <summary>Builds the solution (quietly unless it fails), so `up`, `demo` and `test` run current code.</summary>
internal static class DotnetBuild
{
    public static Task<bool> BuildSolutionAsync(string repo, string configuration, CancellationToken ct) =>
        BuildAsync(repo, "Slipway.sln", configuration, ct);

    public static async Task<bool> BuildAsync(string repo, string target, string configuration, CancellationToken ct)
    {
        // A cold build (packages restored, every project compiled) takes minutes: show each project as it is done,
        // and a line every 20 s of silence, instead of nothing.
        Console.WriteLine($"building {target} ({configuration}); the first build restores packages and takes a few minutes...");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "build", target, "-c", configuration, "--nologo", "-v", "m", "-tl:off" }) info.ArgumentList.Add(a);
        var started = Stopwatch.StartNew();
        var output = new System.Text.StringBuilder();
        var built = 0;
        var lastShown = TimeSpan.Zero;
        void Line(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                output.AppendLine(line);
                if (BuiltProject(line) is not { } project) return;
                built++;
                lastShown = started.Elapsed;
                Console.WriteLine($"  built {project} ({built}, {started.Elapsed.TotalSeconds:F0} s)");
            }
        }
        using var p = Process.Start(info)!;
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var exited = p.WaitForExitAsync(ct);
        while (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5), ct)) != exited)
            lock (output)
                if (started.Elapsed - lastShown > TimeSpan.FromSeconds(20))
                {
                    lastShown = started.Elapsed;
                    Console.WriteLine($"  still building ({started.Elapsed.TotalSeconds:F0} s, {built} projects done)");
                }
        await exited;
        if (p.ExitCode == 0)
        {
            Console.WriteLine($"built in {started.Elapsed.TotalSeconds:F0} s");
            return true;
        }
        lock (output)
        {
            var lines = output.ToString().Split('\n');
            var errors = lines.Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().ToList();
            foreach (var line in errors.Count > 0 ? errors : lines.TakeLast(40)) Console.Error.WriteLine(line.TrimEnd());
        }
        Console.Error.WriteLine("build failed");
        return false;
    }

    /// <summary>MSBuild's minimal output names each project it finished: "  Slipway.Contracts -> /path/Slipway.Contracts.dll".</summary>
    private static string? BuiltProject(string line)
    {
        var arrow = line.IndexOf(" -> ", StringComparison.Ordinal);
        if (arrow <= 0 || !line.StartsWith("  ", StringComparison.Ordinal)) return null;
        var name = line[..arrow].Trim();
        return name.Length > 0 && !name.Contains(' ') ? name : null;
    }
}
