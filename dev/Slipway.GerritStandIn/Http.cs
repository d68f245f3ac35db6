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

    private int? TakeFault(string path)
    {
        lock (_faultGate)
        {
            if (RestUnavailable) return 503;
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

    /// <summary>Parses the supported subset of Gerrit's query language (terms ANDed).</summary>
    private List<Func<ChangeState, bool>> ParseQuery(string query)
    {
        var predicates = new List<Func<ChangeState, bool>>();
        foreach (var token in Tokenize(query))
        {
            if (token is "AND") continue;
            if (token is "OR" or "NOT" || token.StartsWith('-') || token.StartsWith('('))
                throw new StandInException(400, $"Unsupported query: the stand-in supports only ANDed terms ({token})");
            var colon = token.IndexOf(':');
            if (colon < 0)
            {
                var bare = token;
                predicates.Add(c => c.Number.ToString() == bare || c.ChangeId == bare || c.Current.Revision.StartsWith(bare, StringComparison.Ordinal));
                continue;
            }
            var op = token[..colon];
            var value = Unquote(token[(colon + 1)..]);
            switch (op)
            {
                case "after" or "since":
                { var t = ParseTime(value); predicates.Add(c => c.Updated >= t); break; }
                case "before" or "until":
                { var t = ParseTime(value); predicates.Add(c => c.Updated <= t); break; }
                case "project":
                    predicates.Add(c => c.Project == value); break;
                case "branch":
                    predicates.Add(c => c.Branch == value || c.RefName == value); break;
                case "change":
                    predicates.Add(c => c.Number.ToString() == value || c.ChangeId == value); break;
                case "owner":
                    predicates.Add(c => c.Owner.Username == value || c.Owner.Email == value || c.Owner.Id.ToString() == value); break;
                case "status" or "is":
                    predicates.Add(value.ToLowerInvariant() switch
                    {
                        "open" or "new" or "pending" => c => c.Status == "NEW",
                        "closed" => c => c.Status != "NEW",
                        "merged" => c => c.Status == "MERGED",
                        "abandoned" => c => c.Status == "ABANDONED",
                        _ => throw new StandInException(400, $"Unrecognized value: {value}"),
                    });
                    break;
                case "limit":
                    break;
                default:
                    throw new StandInException(400, $"Unsupported operator {op}:{value}");
            }
        }
        return predicates;
    }

    private static IEnumerable<string> Tokenize(string q)
    {
        var sb = new StringBuilder();
        char? quote = null;
        foreach (var ch in q)
        {
            if (quote is not null)
            {
                sb.Append(ch);
                if (ch == quote) quote = null;
                continue;
            }
            if (ch is '"' or '\'') { quote = ch; sb.Append(ch); continue; }
            if (ch == '{') { quote = '}'; sb.Append(ch); continue; }
            if (char.IsWhiteSpace(ch) || ch == '+')
            {
                if (sb.Length > 0) { yield return sb.ToString(); sb.Clear(); }
                continue;
            }
            sb.Append(ch);
        }
        if (quote is not null) throw new StandInException(400, "unterminated quote in query");
        if (sb.Length > 0) yield return sb.ToString();
    }

    private static string Unquote(string v) =>
        v.Length >= 2 && ((v[0] == '"' && v[^1] == '"') || (v[0] == '\'' && v[^1] == '\'') || (v[0] == '{' && v[^1] == '}')) ? v[1..^1] : v;

    /// <summary>`2006-01-02[ 15:04:05[.890][ -0700]]`; no zone = UTC.</summary>
    internal static DateTimeOffset ParseTime(string value)
    {
        string[] formats =
        [
            "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.f", "yyyy-MM-dd HH:mm:ss.ff", "yyyy-MM-dd HH:mm:ss.fff",
            "yyyy-MM-dd HH:mm:ss.ffffff", "yyyy-MM-dd HH:mm:ss.fffffff",
            "yyyy-MM-dd HH:mm:ss zzz", "yyyy-MM-dd HH:mm:ss.fff zzz",
        ];
        var v = value.Trim();
        // Gerrit's zone format is -0700; .NET's zzz wants -07:00.
        if (v.Length > 5 && (v[^5] is '+' or '-') && v[^6] == ' ' && v[^4..].All(char.IsAsciiDigit)) v = v[..^2] + ":" + v[^2..];
        var dot = v.IndexOf('.');
        if (dot > 0)
        {   // fractions longer than 7 digits (Gerrit's nanoseconds): keep 7
            var end = dot + 1;
            while (end < v.Length && char.IsAsciiDigit(v[end])) end++;
            if (end - dot - 1 > 7) v = v[..(dot + 8)] + v[end..];
        }
        if (DateTimeOffset.TryParseExact(v, formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        throw new StandInException(400, $"Unrecognized date/time: {value}");
    }

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00";

    private static JsonObject AccountInfo(GerritAccount a, bool detailed) => detailed
        ? new JsonObject { ["_account_id"] = a.Id, ["name"] = a.Name, ["email"] = a.Email, ["username"] = a.Username }
        : new JsonObject { ["_account_id"] = a.Id };

    private JsonObject ChangeInfo(ChangeState c, HashSet<string> o)
    {
        var detailedAccounts = o.Contains("DETAILED_ACCOUNTS");
        var info = new JsonObject
        {
            ["id"] = $"{c.Project}~{c.Number}",
            ["triplet_id"] = $"{c.Project}~{c.Branch}~{c.ChangeId}",
            ["project"] = c.Project,
            ["branch"] = c.Branch,
            ["change_id"] = c.ChangeId,
            ["subject"] = c.Subject,
            ["status"] = c.Status,
            ["created"] = Timestamp(c.Created),
            ["updated"] = Timestamp(c.Updated),
        };
        if (c.Submitted is { } sub) info["submitted"] = Timestamp(sub);
        info["insertions"] = c.Current.Insertions;
        info["deletions"] = c.Current.Deletions;
        info["_number"] = c.Number;
        info["owner"] = AccountInfo(c.Owner, detailedAccounts);
        info["current_revision_number"] = c.Current.Number;

        if (o.Contains("LABELS") || o.Contains("DETAILED_LABELS"))
        {
            var labels = new JsonObject();
            List<LabelDefinition> defs;
            lock (_labels) defs = [.. _labels.Values.OrderBy(l => l.Name, StringComparer.Ordinal)];
            foreach (var def in defs)
            {
                var l = new JsonObject();
                var votes = c.Votes.TryGetValue(def.Name, out var v) ? v : [];
                AccountsByVote(votes, def.Max, "approved");
                AccountsByVote(votes, def.Min, "rejected");
                if (o.Contains("DETAILED_LABELS"))
                {
                    var all = new JsonArray();
                    foreach (var (acct, value) in votes)
                    {
                        var a = AccountInfo(FindAccount(acct), detailedAccounts);
                        a["value"] = value;
                        all.Add(a);
                    }
                    l["all"] = all;
                    var values = new JsonObject();
                    for (var i = def.Min; i <= def.Max; i++) values[i > 0 ? $"+{i}" : i == 0 ? " 0" : $"{i}"] = i == 0 ? "No score" : "";
                    l["values"] = values;
                }
                labels[def.Name] = l;

                void AccountsByVote(Dictionary<int, int> vs, int target, string key)
                {
                    var who = vs.FirstOrDefault(x => x.Value == target && target != 0);
                    if (who.Key != 0) { l[key] = AccountInfo(FindAccount(who.Key), detailedAccounts); }
                }
            }
            info["labels"] = labels;
        }
        if (o.Contains("MESSAGES"))
        {
            var msgs = new JsonArray();
            foreach (var m in c.Messages)
            {
                var mo = new JsonObject
                {
                    ["id"] = m.Id, ["author"] = AccountInfo(m.Author, detailedAccounts), ["date"] = Timestamp(m.Date),
                    ["message"] = m.Message, ["_revision_number"] = m.PatchSet,
                };
                if (m.Tag is not null) mo["tag"] = m.Tag;
                msgs.Add(mo);
            }
            info["messages"] = msgs;
        }
        var all_ = o.Contains("ALL_REVISIONS");
        if (all_ || o.Contains("CURRENT_REVISION"))
        {
            info["current_revision"] = c.Current.Revision;
            var revs = new JsonObject();
            foreach (var ps in all_ ? c.PatchSets : [c.Current])
            {
                var r = new JsonObject
                {
                    ["kind"] = ps.Kind, ["_number"] = ps.Number, ["created"] = Timestamp(ps.Created),
                    ["uploader"] = AccountInfo(ps.Uploader, detailedAccounts), ["ref"] = ps.Ref,
                    ["fetch"] = new JsonObject
                    {
                        ["anonymous http"] = new JsonObject { ["url"] = $"{HttpUrl}/{c.Project}", ["ref"] = ps.Ref },
                        ["http"] = new JsonObject { ["url"] = $"{HttpUrl}/a/{c.Project}", ["ref"] = ps.Ref },
                    },
                };
                if (o.Contains("ALL_COMMITS") || (o.Contains("CURRENT_COMMIT") && ps == c.Current))
                {
                    var subject = ps.CommitMessage.Split('\n')[0];
                    r["commit"] = new JsonObject
                    {
                        ["parents"] = new JsonArray([.. ps.Parents.Select(p => (JsonNode)new JsonObject { ["commit"] = p })]),
                        ["author"] = new JsonObject { ["name"] = ps.Author.Name, ["email"] = ps.Author.Email, ["date"] = Timestamp(ps.Created), ["tz"] = 0 },
                        ["committer"] = new JsonObject { ["name"] = ps.Uploader.Name, ["email"] = ps.Uploader.Email, ["date"] = Timestamp(ps.Created), ["tz"] = 0 },
                        ["subject"] = subject,
                        ["message"] = ps.CommitMessage,
                    };
                }
                revs[ps.Revision] = r;
            }
            info["revisions"] = revs;
        }
        return info;
    }

    private GerritAccount FindAccount(int id)
    {
        lock (_accounts) return _accounts.Values.First(a => a.Id == id);
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
