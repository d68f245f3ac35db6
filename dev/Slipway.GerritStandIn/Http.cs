using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Slipway.GerritStandIn;

public sealed partial class GerritStandIn
{
    private const string Magic = ")]}'\n";

    private async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            await RouteAsync(ctx);
        }
        catch (StandInException e)
        {
            if (!ctx.Response.HasStarted) await TextAsync(ctx, e.Status, e.Message);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested || _disposed == 1)
        {
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"http: {ctx.Request.Method} {ctx.Request.Path}: {e}");
            if (!ctx.Response.HasStarted) await TextAsync(ctx, 500, "Internal server error");
        }
    }

    private async Task RouteAsync(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var qi = raw.IndexOf('?');
        var rawPath = qi >= 0 ? raw[..qi] : raw;
        var segs = rawPath.TrimStart('/').Split('/').Select(Uri.UnescapeDataString).ToList();
        var method = ctx.Request.Method;

        if (segs[0] == "_standin")
        {
            await ControlAsync(ctx, segs.Skip(1).ToList());
            return;
        }

        GerritAccount? user = null;
        if (segs[0] == "a")
        {
            user = Authenticate(ctx);
            if (user is null)
            {
                ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"Gerrit Code Review\"";
                await TextAsync(ctx, 401, "Unauthorized");
                return;
            }
            segs.RemoveAt(0);
        }

        // git smart HTTP: /<project>/info/refs, /<project>/git-upload-pack (and /a/<project>/...)
        if (segs.Count >= 2 && (segs[^1] is "git-upload-pack" or "git-receive-pack" || (segs.Count >= 3 && segs[^2] == "info" && segs[^1] == "refs")))
        {
            var infoRefs = segs[^1] == "refs";
            var project = string.Join('/', segs.Take(segs.Count - (infoRefs ? 2 : 1)));
            if (project.EndsWith(".git")) project = project[..^4];
            bool known;
            lock (_projects) known = _projects.ContainsKey(project);
            if (!known) { await TextAsync(ctx, 404, "Repository not found"); return; }
            if (segs[^1] == "git-receive-pack" || ctx.Request.Query["service"] == "git-receive-pack")
            {
                await ServeReceivePackAsync(ctx, project, infoRefs, user); // GitPush.cs
                return;
            }
            await _git.ServeCgiAsync(ctx, project, infoRefs ? "info/refs" : "git-upload-pack", user?.Username);
            return;
        }

        if (TakeFault(rawPath) is { } fault)
        {
            await TextAsync(ctx, fault, fault >= 500 ? "Internal server error" : "Injected failure");
            return;
        }

        switch (segs)
        {
            case ["config", "server", "version"] when method == "GET":
                await JsonAsync(ctx, 200, JsonValue.Create("3.9.1"));
                return;
            case ["accounts", "self"] when method == "GET":
                if (user is null) { await TextAsync(ctx, 403, "Authentication required"); return; }
                await JsonAsync(ctx, 200, AccountInfo(user, detailed: true));
                return;
            case ["changes"] or ["changes", ""] when method == "GET":
                await QueryChangesAsync(ctx);
                return;
            case ["changes", _] or ["changes", _, "detail"] when method == "GET":
            {
                var id = segs[1];
                await _mutex.WaitAsync(ctx.RequestAborted);
                JsonObject info;
                try { info = ChangeInfo(ResolveChange(id), Options(ctx)); }
                finally { _mutex.Release(); }
                await JsonAsync(ctx, 200, info);
                return;
            }
            case ["projects", var project, "branches"] when method == "GET":
                await ListBranchesAsync(ctx, project);
                return;
            case ["projects", var project, "branches", ""] when method == "GET":
                await ListBranchesAsync(ctx, project);
                return;
            case ["projects", var project, "tags"] when method == "GET":
                await ListTagsAsync(ctx, project);
                return;
            case ["projects", var project, "tags", ""] when method == "GET":
                await ListTagsAsync(ctx, project);
                return;
            case ["projects", var project, "branches", var branch] when method == "GET":
                await BranchAsync(ctx, project, branch);
                return;
            case ["projects", var project, "commits", var commit] when method == "GET":
                await CommitAsync(ctx, project, commit);
                return;
            case ["changes", var id, "revisions", var rev, "review"] when method == "POST":
                if (user is null) { await TextAsync(ctx, 403, "Authentication required"); return; }
                await PostReviewAsync(ctx, id, rev, user);
                return;
            case ["plugins", "events-log", ""] or ["plugins", "events-log"] when method == "GET":
                if (!_options.EventsLogEnabled) { await TextAsync(ctx, 404, "Not Found"); return; }
                await TextAsync(ctx, 200, "events-log");
                return;
            case ["plugins", "events-log", "events", ..] when method == "GET":
                if (!_options.EventsLogEnabled) { await TextAsync(ctx, 404, "Not Found"); return; }
                if (user is null) { await TextAsync(ctx, 401, "Unauthorized"); return; }
                await EventsLogAsync(ctx, qi >= 0 ? raw[(qi + 1)..] : null);
                return;
            default:
                await TextAsync(ctx, 404, "Not Found");
                return;
        }
    }

    private bool KnownProject(string project)
    {
        lock (_projects) return _projects.ContainsKey(project);
    }

    /// <summary>Get Branch: <c>{"ref":"refs/heads/master","revision":"&lt;sha&gt;"}</c>; 404 for an unknown project or branch.</summary>
    private async Task BranchAsync(HttpContext ctx, string project, string branch)
    {
        if (!KnownProject(project)) { await TextAsync(ctx, 404, $"Not found: {project}"); return; }
        var full = branch.StartsWith("refs/", StringComparison.Ordinal) ? branch : "refs/heads/" + branch;
        if (!full.StartsWith("refs/heads/", StringComparison.Ordinal) || full.Contains("..") || full.Any(char.IsWhiteSpace))
        { await TextAsync(ctx, 404, $"Not found: {branch}"); return; }
        string sha;
        try { sha = await _git.GitAsync(project, ["rev-parse", "--verify", "--quiet", full + "^{commit}"], ct: ctx.RequestAborted); }
        catch (Exception e) when (e is not OperationCanceledException) { await TextAsync(ctx, 404, $"Not found: {branch}"); return; }
        await JsonAsync(ctx, 200, new JsonObject { ["web_links"] = new JsonArray(), ["ref"] = full, ["revision"] = sha });
    }

    /// <summary>
    /// List Branches: <c>HEAD</c> (its target as revision, as Gerrit does) then every <c>refs/heads/*</c> with its tip,
    /// sorted by ref; <c>n</c> limits and <c>S</c> skips, as in Gerrit.
    /// </summary>
    private async Task ListBranchesAsync(HttpContext ctx, string project)
    {
        if (!KnownProject(project)) { await TextAsync(ctx, 404, $"Not found: {project}"); return; }
        var text = await _git.GitAsync(project, ["for-each-ref", "--sort=refname", "--format=%(refname) %(objectname)", "refs/heads/"], ct: ctx.RequestAborted);
        var head = await _git.GitAsync(project, ["symbolic-ref", "--short", "HEAD"], ct: ctx.RequestAborted);
        var all = new List<JsonObject> { new() { ["ref"] = "HEAD", ["revision"] = head.Trim() } };
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2) all.Add(new JsonObject { ["web_links"] = new JsonArray(), ["ref"] = parts[0], ["revision"] = parts[1] });
        }
        var skip = int.TryParse(ctx.Request.Query["S"], out var s) && s > 0 ? s : 0;
        var limit = int.TryParse(ctx.Request.Query["n"], out var n) && n > 0 ? n : int.MaxValue;
        await JsonAsync(ctx, 200, new JsonArray(all.Skip(skip).Take(limit).Select(JsonNode? (b) => b).ToArray()));
    }

    /// <summary>
    /// List Tags: every <c>refs/tags/*</c> by ref, as Gerrit's TagInfo: <c>revision</c> what the ref holds (an annotated
    /// tag's own object), <c>object</c> the tagged object of an annotated tag; <c>n</c> and <c>S</c> page it.
    /// </summary>
    private async Task ListTagsAsync(HttpContext ctx, string project)
    {
        if (!KnownProject(project)) { await TextAsync(ctx, 404, $"Not found: {project}"); return; }
        var text = await _git.GitAsync(project, ["for-each-ref", "--sort=refname", "--format=%(refname) %(objectname) %(*objectname)", "refs/tags/"], ct: ctx.RequestAborted);
        var all = new List<JsonObject>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2) continue;
            var tag = new JsonObject { ["web_links"] = new JsonArray(), ["ref"] = parts[0], ["revision"] = parts[1] };
            if (parts.Length == 3) tag["object"] = parts[2];
            all.Add(tag);
        }
        var skip = int.TryParse(ctx.Request.Query["S"], out var s) && s > 0 ? s : 0;
        var limit = int.TryParse(ctx.Request.Query["n"], out var n) && n > 0 ? n : int.MaxValue;
        await JsonAsync(ctx, 200, new JsonArray(all.Skip(skip).Take(limit).Select(JsonNode? (t) => t).ToArray()));
    }

    /// <summary>Get Commit: the commit, its parents (commit and subject), author, committer, subject and message.</summary>
    private async Task CommitAsync(HttpContext ctx, string project, string commit)
    {
        if (!KnownProject(project) || commit.Length is < 4 or > 40 || !commit.All(Uri.IsHexDigit))
        { await TextAsync(ctx, 404, $"Not found: {commit}"); return; }
        string[] lines;
        try
        {
            var text = await _git.GitAsync(project, ["log", "-1", "--format=%H%n%P%n%an%n%ae%n%at%n%cn%n%ce%n%ct%n%s", commit + "^{commit}", "--"], ct: ctx.RequestAborted);
            lines = text.Split('\n');
        }
        catch (Exception e) when (e is not OperationCanceledException) { await TextAsync(ctx, 404, $"Not found: {commit}"); return; }
        var message = await _git.GitAsync(project, ["log", "-1", "--format=%B", lines[0], "--"], ct: ctx.RequestAborted);
        var parents = new JsonArray();
        foreach (var p in lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            parents.Add(new JsonObject { ["commit"] = p, ["subject"] = await _git.GitAsync(project, ["log", "-1", "--format=%s", p, "--"], ct: ctx.RequestAborted) });
        static JsonObject Person(string name, string email, string unix) => new()
        {
            ["name"] = name, ["email"] = email,
            ["date"] = DateTimeOffset.FromUnixTimeSeconds(long.Parse(unix, CultureInfo.InvariantCulture)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.000000000", CultureInfo.InvariantCulture),
            ["tz"] = 0,
        };
        await JsonAsync(ctx, 200, new JsonObject
        {
            ["commit"] = lines[0], ["parents"] = parents,
            ["author"] = Person(lines[2], lines[3], lines[4]), ["committer"] = Person(lines[5], lines[6], lines[7]),
            ["subject"] = lines[8], ["message"] = message + "\n",
        });
    }

    private int? TakeFault(string path)
    {
        lock (_faultGate)
        {
            if (DateTimeOffset.UtcNow < _unavailableUntil) return _unavailableStatus;
            if (_faults.Count == 0) return null;
            var (status, contains) = _faults.Peek();
            if (contains is not null && !path.Contains(contains, StringComparison.Ordinal)) return null;
            _faults.Dequeue();
            return status;
        }
    }

    private GerritAccount? Authenticate(HttpContext ctx)
    {
        if (!AuthenticationHeaderValue.TryParse(ctx.Request.Headers.Authorization.ToString(), out var h) ||
            !h.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || h.Parameter is null) return null;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(h.Parameter)); }
        catch (FormatException) { return null; }
        var colon = decoded.IndexOf(':');
        if (colon < 0) return null;
        return AccountWithPassword(decoded[..colon], decoded[(colon + 1)..]); // PushAccounts.cs
    }

    // ---------------- REST ----------------

    private static HashSet<string> Options(HttpContext ctx) =>
        new(ctx.Request.Query["o"].Where(o => o is not null).Select(o => o!.ToUpperInvariant()), StringComparer.Ordinal);

    private ChangeState ResolveChange(string id)
    {
        var parts = id.Split('~');
        IEnumerable<ChangeState> found = parts.Length switch
        {
            1 when int.TryParse(id, out var n) => _changes.TryGetValue(n, out var c) ? [c] : [],
            1 => _changes.Values.Where(c => c.ChangeId == id),
            2 when int.TryParse(parts[1], out var n) => _changes.TryGetValue(n, out var c) && c.Project == parts[0] ? [c] : [],
            3 => _changes.Values.Where(c => c.Project == parts[0] && c.ChangeId == parts[2] &&
                                            (c.Branch == parts[1] || c.RefName == parts[1])),
            _ => [],
        };
        var list = found.ToList();
        return list.Count == 1 ? list[0] : throw new StandInException(404, $"Not found: {id}");
    }

    private static PatchSetState ResolveRevision(ChangeState c, string rev)
    {
        if (rev == "current") return c.Current;
        // A patch-set number ("1"), unless it is a longer hex string that only looks numeric (an abbreviated sha).
        if (int.TryParse(rev, out var n) && (rev.Length < 4 || c.PatchSets.Any(p => p.Number == n)))
            return c.PatchSets.FirstOrDefault(p => p.Number == n) ?? throw new StandInException(404, $"Not found: {rev}");
        if (rev.Length >= 4 && rev.All(Uri.IsHexDigit))
        {
            var m = c.PatchSets.Where(p => p.Revision.StartsWith(rev.ToLowerInvariant(), StringComparison.Ordinal)).ToList();
            if (m.Count == 1) return m[0];
        }
        throw new StandInException(404, $"Not found: {rev}");
    }

    private async Task PostReviewAsync(HttpContext ctx, string id, string rev, GerritAccount user)
    {
        var ct = ctx.Request.ContentType ?? "";
        if (!ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new StandInException(400, "Expected Content-Type: application/json");
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync(ctx.RequestAborted);
        JsonObject input;
        try { input = JsonNode.Parse(body) as JsonObject ?? throw new StandInException(400, "Expected JSON object"); }
        catch (JsonException e) { throw new StandInException(400, "Invalid JSON: " + e.Message); }

        string? message, tag, notify;
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            message = input["message"]?.GetValue<string>();
            tag = input["tag"]?.GetValue<string>();
            notify = input["notify"]?.GetValue<string>();
            if (input["labels"] is JsonObject lo)
                foreach (var (k, v) in lo) labels[k] = v!.GetValueKind() == JsonValueKind.String ? int.Parse(v.GetValue<string>()) : v.GetValue<int>();
            else if (input["labels"] is not null) throw new StandInException(400, "labels must be an object");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new StandInException(400, "Bad Request: " + e.Message);
        }
        if (notify is not null && notify is not ("NONE" or "OWNER" or "OWNER_REVIEWERS" or "ALL"))
            throw new StandInException(400, $"Bad Request: invalid notify value {notify}");
        if (input["ready"]?.GetValueKind() == JsonValueKind.True && input["work_in_progress"]?.GetValueKind() == JsonValueKind.True)
            throw new StandInException(400, "work_in_progress and ready are mutually exclusive");

        await _mutex.WaitAsync(ctx.RequestAborted);
        try
        {
            var change = ResolveChange(id);
            var ps = ResolveRevision(change, rev);
            ValidateLabels(labels, change, user);
            var now = DateTimeOffset.UtcNow;
            ApplyReview(change, ps, user, message, labels, tag, now);
            lock (_reviews)
                _reviews.Add(new PostedReview(change.Number, ps.Number, ps.Revision, message, labels, tag, notify, user, now, body));
        }
        finally { _mutex.Release(); }

        bool lost;
        lock (_faultGate)
        {
            lost = _lostReviewAnswers > 0;
            if (lost) _lostReviewAnswers--;
        }
        if (lost) { await TextAsync(ctx, 502, "Bad Gateway"); return; }

        var result = new JsonObject();
        if (input["labels"] is not null)
        {
            var lo = new JsonObject();
            foreach (var (k, v) in labels) lo[k] = v;
            result["labels"] = lo;
        }
        await JsonAsync(ctx, 200, result);
    }

    private async Task QueryChangesAsync(HttpContext ctx)
    {
        var q = ctx.Request.Query["q"].ToString();
        var limit = int.TryParse(ctx.Request.Query["n"], out var n) ? n : 500;
        var start = int.TryParse(ctx.Request.Query["S"], out var s) ? s : int.TryParse(ctx.Request.Query["start"], out var s2) ? s2 : 0;
        if (limit <= 0) limit = 500;
        var predicates = ParseQuery(string.IsNullOrWhiteSpace(q) ? "status:open" : q);
        var options = Options(ctx);
        var result = new JsonArray();
        await _mutex.WaitAsync(ctx.RequestAborted);
        try
        {
            var matches = _changes.Values.Where(c => predicates.All(p => p(c)))
                .OrderByDescending(c => c.Updated).ThenByDescending(c => c.Number).Skip(start).ToList();
            foreach (var c in matches.Take(limit)) result.Add(ChangeInfo(c, options));
            if (matches.Count > limit && result.Count > 0) ((JsonObject)result[^1]!)["_more_changes"] = true;
        }
        finally { _mutex.Release(); }
        await JsonAsync(ctx, 200, result);
    }

    private async Task EventsLogAsync(HttpContext ctx, string? query)
    {
        long? t1 = null, t2 = null;
        if (query is not null)
        {
            foreach (var pair in query.Split('&', ';', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq < 0) continue;
                var key = pair[..eq];
                var value = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
                if (key is not ("t1" or "t2")) continue;
                if (!DateTimeOffset.TryParseExact(value, ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"], CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
                    throw new StandInException(400, $"Bad date format: {value}");
                if (key == "t1") t1 = t.ToUnixTimeSeconds(); else t2 = t.ToUnixTimeSeconds();
            }
            if (t1 is null && t2 is null) throw new StandInException(400, "Bad Request: t1 or t2 is required");
        }
        List<StandInEvent> events;
        lock (_events) events = _events.Where(e => e.Project is not null).ToList();
        if (query is not null)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var from = t1 ?? now;
            var to = t2 ?? now;
            if (from > to) (from, to) = (to, from);
            events = events.Where(e => e.EventCreatedOn >= from && e.EventCreatedOn <= to).Take(_options.EventsLogReturnLimit).ToList();
        }
        else events = events.TakeLast(_options.EventsLogReturnLimit).ToList();
        var sb = new StringBuilder();
        foreach (var e in events) sb.Append(e.Json).Append('\n');
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/html;charset=utf-8";
        await ctx.Response.WriteAsync(sb.ToString(), ctx.RequestAborted);
    }

    // ---------------- stream for the forced command ----------------

    private async Task StreamAsync(HttpContext ctx)
    {
        var types = ctx.Request.Query["s"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).ToList();
        var sub = _hub.Subscribe(types);
        try
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/x-ndjson";
            await ctx.Response.StartAsync(ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, sub.Ended.Token);
            var token = linked.Token;
            var reader = sub.Queue.Reader;
            Task<bool>? data = null, wake = null;
            while (!token.IsCancellationRequested)
            {
                data ??= reader.WaitToReadAsync(token).AsTask();
                wake ??= sub.Wake.Reader.WaitToReadAsync(token).AsTask();
                var done = await Task.WhenAny(data, wake);
                if (done.IsCanceled || done.IsFaulted) break;
                if (done == wake) { wake = null; while (sub.Wake.Reader.TryRead(out _)) { } }
                if (done == data) { data = null; if (!await done) break; }

                var sb = new StringBuilder();
                var dropped = StreamHub.DroppedOutputJson(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                if (sub.ForceDroppedOutput) { sub.ForceDroppedOutput = false; sb.Append(dropped).Append('\n'); }
                if (sub.Dropped) { sub.Dropped = false; sb.Append(dropped).Append('\n'); }
                for (var i = 0; i < StreamHub.BatchSize && reader.TryRead(out var line); i++) sb.Append(line).Append('\n');
                if (sb.Length == 0) continue;
                await ctx.Response.WriteAsync(sb.ToString(), token);
                await ctx.Response.Body.FlushAsync(token);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            _hub.Unsubscribe(sub);
        }
    }

    // ---------------- control API over HTTP ----------------

    private async Task ControlAsync(HttpContext ctx, List<string> segs)
    {
        var method = ctx.Request.Method;
        JsonObject Body(string json) => string.IsNullOrWhiteSpace(json) ? new JsonObject() :
            JsonNode.Parse(json) as JsonObject ?? throw new StandInException(400, "expected a JSON object");
        async Task<JsonObject> ReadBody()
        {
            using var r = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            try { return Body(await r.ReadToEndAsync(ctx.RequestAborted)); }
            catch (JsonException e) { throw new StandInException(400, "invalid JSON: " + e.Message); }
        }
        var ct = ctx.RequestAborted;
        switch (segs)
        {
            case ["stream"] when method == "GET":
                await StreamAsync(ctx);
                return;
            case ["info"] when method == "GET":
                await PlainJsonAsync(ctx, 200, new JsonObject
                {
                    ["httpUrl"] = HttpUrl, ["sshUrl"] = SshUrl, ["sshUser"] = SshUser, ["sshPort"] = SshPort,
                    ["knownHostsLine"] = KnownHostsLine, ["httpUser"] = HttpUser, ["httpPassword"] = HttpPassword,
                    ["eventsLogEnabled"] = EventsLogEnabled, ["streamConnections"] = StreamConnections,
                    ["developerUser"] = Developer.Username, ["developerHttpPassword"] = DeveloperHttpPassword, // for git push
                });
                return;
            case ["projects"] when method == "POST":
            {
                var b = await ReadBody();
                var name = b["name"]?.GetValue<string>() ?? throw new StandInException(400, "name is required");
                await CreateProjectAsync(name, b["branch"]?.GetValue<string>() ?? "master", ct);
                await PlainJsonAsync(ctx, 201, new JsonObject { ["name"] = name });
                return;
            }
            case ["changes"] when method == "POST":
            {
                var b = await ReadBody();
                var files = new Dictionary<string, string?>(StringComparer.Ordinal);
                if (b["files"] is JsonObject fo) foreach (var (k, v) in fo) files[k] = v?.GetValue<string>();
                var r = await UploadPatchsetAsync(
                    b["project"]?.GetValue<string>() ?? throw new StandInException(400, "project is required"),
                    b["branch"]?.GetValue<string>() ?? "master", files,
                    b["subject"]?.GetValue<string>() ?? throw new StandInException(400, "subject is required"),
                    b["changeId"]?.GetValue<string>(), ct: ct);
                await PlainJsonAsync(ctx, 201, JsonSerializer.SerializeToNode(r)!.AsObject());
                return;
            }
            case ["changes", var n, "comment"] when method == "POST" && int.TryParse(n, out var number):
            {
                var b = await ReadBody();
                var approvals = new Dictionary<string, int>(StringComparer.Ordinal);
                if (b["approvals"] is JsonObject ao) foreach (var (k, v) in ao) approvals[k] = v!.GetValue<int>();
                var json = await CommentAsync(number, b["text"]?.GetValue<string>() ?? "", approvals: approvals, ct: ct);
                await PlainJsonAsync(ctx, 200, json.Length == 0 ? new JsonObject() : JsonNode.Parse(json)!.AsObject());
                return;
            }
            case ["changes", var n, "merge"] when method == "POST" && int.TryParse(n, out var number):
                await PlainJsonAsync(ctx, 200, new JsonObject { ["newRev"] = await MergeAsync(number, ct: ct) });
                return;
            case ["changes", var n, "abandon"] when method == "POST" && int.TryParse(n, out var number):
            {
                var b = await ReadBody();
                await AbandonAsync(number, b["reason"]?.GetValue<string>(), ct: ct);
                await PlainJsonAsync(ctx, 200, new JsonObject { ["status"] = "ABANDONED" });
                return;
            }
            case ["changes", var n, "reviews"] when method == "GET" && int.TryParse(n, out var number):
                await PlainJsonAsync(ctx, 200, JsonSerializer.SerializeToNode(Reviews(number))!);
                return;
            case ["events"] when method == "GET":
            {
                var sb = new StringBuilder();
                foreach (var e in Events()) sb.Append(e.Json).Append('\n');
                ctx.Response.ContentType = "application/x-ndjson";
                await ctx.Response.WriteAsync(sb.ToString(), ct);
                return;
            }
            case ["ssh", "keys"] when method == "POST":
            {
                using var r = new StreamReader(ctx.Request.Body, Encoding.UTF8);
                AddAuthorizedKey(await r.ReadToEndAsync(ct));
                await PlainJsonAsync(ctx, 201, new JsonObject());
                return;
            }
            case ["ssh", "cut"] when method == "POST":
                await PlainJsonAsync(ctx, 200, new JsonObject { ["killed"] = CutSshConnections() });
                return;
            case ["ssh", "dropped-output"] when method == "POST":
                EmitDroppedOutput();
                await PlainJsonAsync(ctx, 200, new JsonObject());
                return;
            case ["events-log"] when method is "PUT" or "POST":
            {
                var b = await ReadBody();
                EventsLogEnabled = b["enabled"]?.GetValue<bool>() ?? throw new StandInException(400, "enabled is required");
                await PlainJsonAsync(ctx, 200, new JsonObject { ["enabled"] = EventsLogEnabled });
                return;
            }
            default:
                if (await AccountControlAsync(ctx, segs)) return; // PushAccounts.cs
                await TextAsync(ctx, 404, "Not Found");
                return;
        }
    }

    // ---------------- responses ----------------

    private static async Task JsonAsync(HttpContext ctx, int status, JsonNode? body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.WriteAsync(Magic + (body?.ToJsonString() ?? "null") + "\n", ctx.RequestAborted);
    }

    private static async Task PlainJsonAsync(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.WriteAsync(body.ToJsonString() + "\n", ctx.RequestAborted);
    }

    private static async Task TextAsync(HttpContext ctx, int status, string text)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync(text.EndsWith('\n') ? text : text + "\n", ctx.RequestAborted);
    }
}
