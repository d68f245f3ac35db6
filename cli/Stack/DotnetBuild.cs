using System.Diagnostics;

namespace Slipway.Cli.Stack;

/// <summary>Builds the solution (quietly unless it fails), so `up`, `demo` and `test` run current code.</summary>
internal static class DotnetBuild
{
    public static Task<bool> BuildSolutionAsync(string repo, string configuration, CancellationToken ct) =>
        BuildAsync(repo, "Slipway.sln", configuration, ct);

    public static async Task<bool> BuildAsync(string repo, string target, string configuration, CancellationToken ct)
    {
        Console.WriteLine($"building {target} ({configuration})...");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "build", target, "-c", configuration, "--nologo", "-v", "q", "-clp:ErrorsOnly" }) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode == 0) return true;
        Console.Error.WriteLine(await stdout);
        Console.Error.WriteLine(await stderr);
        Console.Error.WriteLine("build failed");
        return false;
    }
}
