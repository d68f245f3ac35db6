using Slipway.Hosting;
using System.Diagnostics;
using System.Text;

namespace Slipway.Builder.Git;

/// <summary>
/// Runs the real <c>git</c> CLI with a time limit, no prompts and no credentials in what it reports.
/// The argument list is passed as argv (no shell), so nothing in it is interpreted.
/// </summary>
internal static class GitCommand
{
    /// <summary>Most stderr kept for error messages: git's own message is at the end.</summary>
    private const int MaxErrorChars = 2000;

    public static async Task<string> RunAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct,
        Func<Stream, Task>? readStdout = null)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Never block on a prompt for credentials or host keys: a CI fetch either works or fails.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_ASKPASS"] = "/bin/false";
        psi.Environment["SSH_ASKPASS"] = "/bin/false";
        if (!psi.Environment.ContainsKey("GIT_SSH_COMMAND")) psi.Environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        psi.Environment["LC_ALL"] = "C";
        // The ext:: transport runs arbitrary commands; never let a URL reach it.
        foreach (var a in (string[])["-c", "protocol.ext.allow=never", .. args]) psi.ArgumentList.Add(a);

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        using var process = Process.Start(psi) ?? throw new GitCheckoutException("cannot start git");
        process.StandardInput.Close();
        var stderr = new StringBuilder();
        var errTask = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await process.StandardError.ReadAsync(buffer)) > 0)
                lock (stderr)
                {
                    stderr.Append(buffer, 0, n);
                    if (stderr.Length > 4 * MaxErrorChars) stderr.Remove(0, stderr.Length - MaxErrorChars);
                }
        });
        string stdout = "";
        try
        {
            if (readStdout is null) stdout = await process.StandardOutput.ReadToEndAsync(timeoutCts.Token);
            else await readStdout(process.StandardOutput.BaseStream).WaitAsync(timeoutCts.Token);
            await process.WaitForExitAsync(timeoutCts.Token);
            await errTask.WaitAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (ct.IsCancellationRequested) throw;
            throw new GitCheckoutException($"git {Describe(args)} did not finish within {timeout.TotalSeconds:0}s");
        }
        catch (Exception e) when (e is not GitCheckoutException)
        {
            Kill(process);
            throw new GitCheckoutException($"git {Describe(args)} failed: {UrlCredentials.Redact(e.Message)}", e);
        }
        if (process.ExitCode != 0)
        {
            string err;
            lock (stderr) err = stderr.ToString().Trim();
            if (err.Length > MaxErrorChars) err = err[^MaxErrorChars..];
            throw new GitCheckoutException($"git {Describe(args)} failed (exit {process.ExitCode}): {UrlCredentials.Redact(LastLine(err))}");
        }
        return stdout;
    }

    /// <summary>Exit code only, for queries such as <c>cat-file -e</c> whose failure is an answer, not an error.</summary>
    public static async Task<bool> SucceedsAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct)
    {
        try { await RunAsync(args, timeout, ct); return true; }
        catch (GitCheckoutException) { return false; }
    }

    private static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    // The subcommand and its non-URL arguments: enough to know what failed, never a credential.
    private static string Describe(IReadOnlyList<string> args)
    {
        var shown = new List<string>();
        for (var i = 0; i < args.Count && shown.Count < 4; i++)
        {
            if (args[i] == "--git-dir") { i++; continue; } // the cache path says nothing useful
            shown.Add(args[i]);
        }
        return UrlCredentials.Redact(string.Join(' ', shown));
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // git prints "fatal: ..." last; hints before it are noise in a one-line reason.
        return lines.LastOrDefault(l => l.StartsWith("fatal:", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "(no message)";
    }
}
