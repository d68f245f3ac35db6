using System.Diagnostics;
using Slipway.Embedded;

namespace Slipway.GerritStandIn;

/// <summary>Bare repositories on disk, written with the real `git` CLI (plumbing, so no worktree races).</summary>
internal sealed class GitRepos(string root)
{
    public const string ZeroId = "0000000000000000000000000000000000000000";

    public string Root { get; } = root;

    public string PathOf(string project) => Path.Combine(Root, project + ".git");

    public bool Exists(string project) => Directory.Exists(PathOf(project));

    public static IReadOnlyDictionary<string, string> Identity(GerritAccount author, GerritAccount committer, DateTimeOffset when)
    {
        var date = $"{when.ToUnixTimeSeconds()} +0000";
        return new Dictionary<string, string>
        {
            ["GIT_AUTHOR_NAME"] = author.Name, ["GIT_AUTHOR_EMAIL"] = author.Email, ["GIT_AUTHOR_DATE"] = date,
            ["GIT_COMMITTER_NAME"] = committer.Name, ["GIT_COMMITTER_EMAIL"] = committer.Email, ["GIT_COMMITTER_DATE"] = date,
            ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0",
        };
    }

    public async Task<string> GitAsync(string project, IEnumerable<string> args, string? stdin = null,
        IReadOnlyDictionary<string, string>? env = null, CancellationToken ct = default)
    {
        var full = new List<string> { "--git-dir", PathOf(project) };
        full.AddRange(args);
        var environment = new Dictionary<string, string> { ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null" };
        if (env is not null) foreach (var (k, v) in env) environment[k] = v;
        var r = await ProcessRunner.RunCheckedAsync("git", full, stdin, environment, TimeSpan.FromMinutes(2), ct);
        return r.StdOut.TrimEnd('\n');
    }

    /// <summary>`git init --bare` and an initial commit on <paramref name="branch"/>; returns the commit.</summary>
    public async Task<string> CreateAsync(string project, string branch, GerritAccount owner, DateTimeOffset when, CancellationToken ct)
    {
        var dir = PathOf(project);
        Directory.CreateDirectory(dir);
        await ProcessRunner.RunCheckedAsync("git", ["init", "--bare", "--quiet", dir], environment: Identity(owner, owner, when), ct: ct);
        await GitAsync(project, ["symbolic-ref", "HEAD", "refs/heads/" + branch], ct: ct);
        // Clients fetch refs/changes/* by name: allow it over http (uploadpack.allowAnySHA1InWant is not needed).
        await GitAsync(project, ["config", "http.uploadpack", "true"], ct: ct);
        var tree = await GitAsync(project, ["mktree"], stdin: "", ct: ct);
        var commit = await GitAsync(project, ["commit-tree", tree, "-m", "Initial empty repository"],
            env: Identity(owner, owner, when), ct: ct);
        await GitAsync(project, ["update-ref", "refs/heads/" + branch, commit, ZeroId], ct: ct);
        return commit;
    }

    public async Task<string?> ResolveAsync(string project, string rev, CancellationToken ct)
    {
        var r = await ProcessRunner.RunAsync("git", ["--git-dir", PathOf(project), "rev-parse", "--verify", "--quiet", rev + "^{commit}"], ct: ct);
        return r.Succeeded ? r.StdOut.Trim() : null;
    }

    /// <summary>A tree: <paramref name="baseTree"/> with <paramref name="files"/> written (null content = delete).</summary>
    public async Task<string> WriteTreeAsync(string project, string baseTree, IReadOnlyDictionary<string, string?> files, CancellationToken ct)
    {
        var index = Path.Combine(Path.GetTempPath(), $"slipway-gerrit-index-{Guid.NewGuid():N}");
        var env = new Dictionary<string, string> { ["GIT_INDEX_FILE"] = index };
        try
        {
            await GitAsync(project, ["read-tree", baseTree], env: env, ct: ct);
            foreach (var (path, content) in files)
            {
                var clean = path.Trim('/');
                if (clean.Length == 0 || clean.Split('/').Any(s => s is "" or "." or ".." or ".git"))
                    throw new ArgumentException($"invalid file path '{path}'");
                if (content is null)
                {
                    await GitAsync(project, ["update-index", "--force-remove", "--", clean], env: env, ct: ct);
                    continue;
                }
                var blob = await GitAsync(project, ["hash-object", "-w", "--stdin"], stdin: content, ct: ct);
                await GitAsync(project, ["update-index", "--add", "--cacheinfo", $"100644,{blob},{clean}"], env: env, ct: ct);
            }
            return await GitAsync(project, ["write-tree"], env: env, ct: ct);
        }
        finally
        {
            File.Delete(index);
        }
    }

    public async Task<(int Insertions, int Deletions)> DiffStatAsync(string project, string from, string to, CancellationToken ct)
    {
        var output = await GitAsync(project, ["diff", "--numstat", "--no-renames", from, to], ct: ct);
        int ins = 0, del = 0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            if (f.Length >= 2 && int.TryParse(f[0], out var i) && int.TryParse(f[1], out var d)) { ins += i; del += d; }
        }
        return (ins, del);
    }

    /// <summary>Runs `git http-backend` as a CGI for one request (smart HTTP, protocol v0/v1/v2).</summary>
    public async Task ServeCgiAsync(Microsoft.AspNetCore.Http.HttpContext ctx, string project, string rest, string? remoteUser,
        IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var req = ctx.Request;
        var psi = new ProcessStartInfo("git", ["http-backend"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var env = psi.Environment;
        env["GIT_PROJECT_ROOT"] = Root;
        env["GIT_HTTP_EXPORT_ALL"] = "1";
        env["GIT_CONFIG_NOSYSTEM"] = "1";
        env["GIT_CONFIG_GLOBAL"] = "/dev/null";
        env["PATH_INFO"] = "/" + project + ".git/" + rest;
        env["QUERY_STRING"] = req.QueryString.HasValue ? req.QueryString.Value![1..] : "";
        env["REQUEST_METHOD"] = req.Method;
        env["CONTENT_TYPE"] = req.ContentType ?? "";
        if (req.ContentLength is { } len) env["CONTENT_LENGTH"] = len.ToString();
        env["REMOTE_ADDR"] = ctx.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1";
        env["SERVER_PROTOCOL"] = "HTTP/1.1";
        env["GATEWAY_INTERFACE"] = "CGI/1.1";
        if (remoteUser is not null) env["REMOTE_USER"] = remoteUser;
        if (req.Headers.ContentEncoding.Count > 0) env["HTTP_CONTENT_ENCODING"] = req.Headers.ContentEncoding.ToString();
        if (req.Headers.TryGetValue("Git-Protocol", out var gp)) { env["HTTP_GIT_PROTOCOL"] = gp.ToString(); env["GIT_PROTOCOL"] = gp.ToString(); }
        if (extraEnvironment is not null) foreach (var (k, v) in extraEnvironment) env[k] = v;

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var feed = Task.Run(async () =>
        {
            try { await req.Body.CopyToAsync(p.StandardInput.BaseStream, ctx.RequestAborted); }
            catch (Exception) { /* client went away or CGI stopped reading */ }
            finally { try { p.StandardInput.Close(); } catch (IOException) { } }
        });
        try
        {
            var output = p.StandardOutput.BaseStream;
            var headers = await ReadCgiHeadersAsync(output, ctx.RequestAborted);
            var status = 200;
            foreach (var (name, value) in headers)
            {
                if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
                    status = int.Parse(value.Split(' ')[0]);
                else
                    ctx.Response.Headers[name] = value;
            }
            ctx.Response.StatusCode = status;
            await output.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
            await feed;
            await p.WaitForExitAsync(ctx.RequestAborted);
        }
        finally
        {
            if (!p.HasExited) try { p.Kill(); } catch (InvalidOperationException) { }
        }
        _ = await stderr;
    }

    private static async Task<List<(string, string)>> ReadCgiHeadersAsync(Stream s, CancellationToken ct)
    {
        var headers = new List<(string, string)>();
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await s.ReadAsync(one, ct) == 0) return headers;
            if (one[0] != '\n') { line.Add(one[0]); continue; }
            var text = System.Text.Encoding.ASCII.GetString(line.ToArray()).TrimEnd('\r');
            line.Clear();
            if (text.Length == 0) return headers;
            var colon = text.IndexOf(':');
            if (colon > 0) headers.Add((text[..colon].Trim(), text[(colon + 1)..].Trim()));
        }
    }
}
