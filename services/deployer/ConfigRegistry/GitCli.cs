using Slipway.Hosting;
using System.Diagnostics;
using System.Text;

namespace Slipway.Deployer.Config;

/// <summary>The outcome of one git command.</summary>
public sealed record GitResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the real <c>git</c> CLI (what operators already trust and can replay by hand), with no prompts, a time
/// limit, fixed author and committer, and credentials in URLs redacted from every error message.
/// </summary>
public sealed class GitCli(string authorName, string authorEmail, TimeSpan timeout)
{
    /// <summary>
    /// Runs <c>git args...</c> in <paramref name="workingDirectory"/>; throws on a non-zero exit unless <paramref name="check"/> is false.
    /// <paramref name="environment"/> adds variables (e.g. credentials read by a credential helper, never put on the command line).
    /// </summary>
    public async Task<GitResult> RunAsync(string workingDirectory, IEnumerable<string> args, CancellationToken ct,
        string? stdin = null, bool check = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        // Signing or an editor would hang or fail a service with no terminal.
        foreach (var arg in new[] { "-c", "commit.gpgsign=false", "-c", "core.editor=true", "-c", "advice.detachedHead=false" })
            start.ArgumentList.Add(arg);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "true";
        start.Environment["LC_ALL"] = "C";
        start.Environment["GIT_AUTHOR_NAME"] = authorName;
        start.Environment["GIT_AUTHOR_EMAIL"] = authorEmail;
        start.Environment["GIT_COMMITTER_NAME"] = authorName;
        start.Environment["GIT_COMMITTER_EMAIL"] = authorEmail;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new ConfigRegistryException("could not start git");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            if (stdin is not null) await process.StandardInput.WriteAsync(stdin.AsMemory(), deadline.Token);
            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
            var result = new GitResult(process.ExitCode, await stdout, await stderr);
            if (check && !result.Succeeded)
                throw new ConfigRegistryException($"git {Describe(args)} failed ({result.ExitCode}): {UrlCredentials.Redact(result.StandardError.Trim())}");
            return result;
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            throw new ConfigRegistryException($"git {Describe(args)} did not finish within {timeout.TotalSeconds:0}s");
        }
    }

    private static string Describe(IEnumerable<string> args) => UrlCredentials.Redact(string.Join(' ', args.Take(6)));
}
