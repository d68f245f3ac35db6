using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Slipway.GerritStandIn;

/// <summary>
/// `git push` over HTTP, as Gerrit takes it: `refs/for/BRANCH` creates changes and patch sets, `refs/heads/*`
/// and `refs/tags/*` are direct pushes for accounts allowed to. The real `git receive-pack` (through
/// `git http-backend`) receives and checks the pack; every pushed ref then goes to the `proc-receive` hook,
/// whose decisions are made here under the stand-in's lock, so concurrent pushes are serialized and every ref
/// is written with its expected old value.
/// </summary>
public sealed partial class GerritStandIn
{
    /// <summary>Gerrit's `receive.maxBatchCommits` is 10000; the stand-in reads each commit, so it takes fewer.</summary>
    public const int MaxPushCommits = 100;

    private static readonly Regex FooterLine = new(@"^([A-Za-z0-9-]+):[ \t]*(.*)$", RegexOptions.CultureInvariant);
    private ProcReceiveServer? _pushReceiver;
    private string _hooksDirectory = "";

    private async Task StartPushReceiverAsync(CancellationToken ct)
    {
        _pushReceiver = new ProcReceiveServer(ReceivePushAsync, _options.Log);
        _hooksDirectory = Path.Combine(WorkDirectory, "git-hooks");
        Directory.CreateDirectory(_hooksDirectory);
        var hook = Path.Combine(_hooksDirectory, "proc-receive");
        await File.WriteAllTextAsync(hook, _pushReceiver.HookScript(), ct);
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// `info/refs?service=git-receive-pack` and `git-receive-pack`: authenticated (HTTP basic, with or without the
    /// `/a/` prefix, as Gerrit asks anonymous pushers to log in), then `git http-backend` with every ref routed
    /// to the proc-receive hook.
    /// </summary>
    private async Task ServeReceivePackAsync(HttpContext ctx, string project, bool infoRefs, GerritAccount? user)
    {
        user ??= Authenticate(ctx);
        if (user is null)
        {
            ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"Gerrit Code Review\"";
            await TextAsync(ctx, 401, "Unauthorized");
            return;
        }
        var env = new Dictionary<string, string>
        {
            ["GIT_CONFIG_COUNT"] = "4",
            ["GIT_CONFIG_KEY_0"] = "receive.procReceiveRefs", ["GIT_CONFIG_VALUE_0"] = "refs", // every ref, so nothing bypasses the checks
            ["GIT_CONFIG_KEY_1"] = "core.hooksPath", ["GIT_CONFIG_VALUE_1"] = _hooksDirectory,
            ["GIT_CONFIG_KEY_2"] = "receive.advertisePushOptions", ["GIT_CONFIG_VALUE_2"] = "true",
            ["GIT_CONFIG_KEY_3"] = "http.receivepack", ["GIT_CONFIG_VALUE_3"] = "true",
        };
        if (infoRefs)
        {
            await _git.ServeCgiAsync(ctx, project, "info/refs", user.Username, env);
            return;
        }
        var session = _pushReceiver!.Open(project, user);
        try
        {
            env[ProcReceiveServer.TokenVariable] = session.Token;
            await _git.ServeCgiAsync(ctx, project, "git-receive-pack", user.Username, env);
        }
        finally { _pushReceiver.Close(session); }
    }

    private async Task<PushOutcome> ReceivePushAsync(PushSession session, IReadOnlyList<PushCommand> commands,
        IReadOnlyList<string> pushOptions, CancellationToken ct)
    {
        var results = new List<(string, string?)>();
        var errors = new List<string>();
        var uploaded = new List<(ChangeState Change, bool New)>();
        var topic = pushOptions.Where(o => o.StartsWith("topic=", StringComparison.Ordinal)).Select(o => o[6..]).LastOrDefault();
        var reviewers = pushOptions.Where(o => o.StartsWith("r=", StringComparison.Ordinal)).Select(o => o[2..]).ToList();
        await _mutex.WaitAsync(ct);
        try
        {
            foreach (var cmd in commands)
            {
                string? error;
                try
                {
                    error = cmd.Ref.StartsWith("refs/for/", StringComparison.Ordinal)
                        ? await ReceiveForReviewAsync(session, cmd, topic, reviewers, errors, uploaded, ct)
                        : await ReceiveDirectAsync(session, cmd, ct);
                }
                catch (InvalidOperationException e) // a git command failed: answer it, never leave the push hanging
                {
                    _options.Log?.Invoke($"push {session.Project} {cmd.Ref}: {e.Message}");
                    error = "internal server error";
                }
                results.Add((cmd.Ref, error));
            }
        }
        finally { _mutex.Release(); }

        var messages = new List<string>();
        var news = uploaded.Count(u => u.New);
        messages.Add($"Processing changes: refs: {commands.Count}" + (news > 0 ? $", new: {news}" : "")
            + (uploaded.Count > news ? $", updated: {uploaded.Count - news}" : "") + ", done");
        messages.AddRange(errors);
        if (uploaded.Count > 0)
        {
            messages.AddRange(["", "SUCCESS", ""]);
            foreach (var (change, isNew) in uploaded)
                messages.Add($"  {ChangeUrl(change)} {change.Subject}" + (isNew ? " [NEW]" : ""));
            messages.Add("");
        }
        return new PushOutcome(results, messages);
    }

    private string ChangeUrl(ChangeState c) => $"{HttpUrl}/c/{c.Project}/+/{c.Number}";

    /// <summary>`refs/for/BRANCH[%options]`: every new commit becomes a change, or a patch set of the open change with its Change-Id.</summary>
    private async Task<string?> ReceiveForReviewAsync(PushSession s, PushCommand cmd, string? topic, IReadOnlyList<string> pushReviewers,
        List<string> errors, List<(ChangeState, bool)> uploaded, CancellationToken ct)
    {
        var reviewerNames = pushReviewers.ToList();
        var branch = cmd.Ref["refs/for/".Length..];
        var percent = branch.IndexOf('%');
        if (percent >= 0)
        {
            // Gerrit's push options after `%` (topic=, r=, wip, ...): the topic and reviewers are kept, the rest accepted and ignored.
            foreach (var option in branch[(percent + 1)..].Split(','))
            {
                if (option.StartsWith("topic=", StringComparison.Ordinal)) topic = Uri.UnescapeDataString(option[6..]);
                else if (option.StartsWith("r=", StringComparison.Ordinal)) reviewerNames.Add(Uri.UnescapeDataString(option[2..]));
            }
            branch = branch[..percent];
        }
        if (branch.StartsWith("refs/heads/", StringComparison.Ordinal)) branch = branch["refs/heads/".Length..];
        if (cmd.NewId == GitRepos.ZeroId) return "prohibited by Gerrit: not permitted: delete";
        if (branch.Length == 0 || await _git.ResolveAsync(s.Project, "refs/heads/" + branch, ct) is null) return $"branch {branch} not found";
        // As Gerrit: a reviewer that names no account refuses the whole push.
        var reviewers = new List<GerritAccount>();
        foreach (var name in reviewerNames)
        {
            if (ReviewerAccount(name) is not { } account) return Refuse($"reviewer {name} not found");
            reviewers.Add(account);
        }

        var listed = await _git.GitAsync(s.Project, ["rev-list", "--reverse", "--topo-order", $"--max-count={MaxPushCommits + 1}",
            cmd.NewId, "--not", "--branches", "--tags"], ct: ct);
        var shas = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (shas.Length > MaxPushCommits) return $"more than {MaxPushCommits} commits, and skip-validation not set";
        var known = _changes.Values.Where(c => c.Project == s.Project).SelectMany(c => c.PatchSets).Select(p => p.Revision).ToHashSet();
        var fresh = shas.Where(sha => !known.Contains(sha)).ToList();
        if (fresh.Count == 0) return "no new changes";

        // Validate every commit before anything is written, as Gerrit rejects the whole push.
        var plan = new List<(CommitInfo Commit, string ChangeId, ChangeState? Existing)>();
        foreach (var sha in fresh)
        {
            var commit = await ReadCommitAsync(s.Project, sha, ct);
            var ids = ChangeIdFooters(commit.Message);
            var abbrev = sha[..7];
            string changeId;
            if (ids.Count == 0)
            {
                var subjectLine = commit.Message.Split('\n')[0];
                if (subjectLine.StartsWith("Change-Id:", StringComparison.Ordinal) && IsChangeId(subjectLine["Change-Id:".Length..].Trim()))
                    return Refuse($"commit {abbrev}: missing subject; Change-Id must be in message footer");
                if (commit.Message.Contains("\nChange-Id:", StringComparison.Ordinal))
                {
                    var reason = $"commit {abbrev}: Change-Id must be in message footer";
                    errors.AddRange(["ERROR: " + reason, "", "Hint: run", "  git commit --amend",
                        "and move 'Change-Id: Ixxx..' to the bottom on a separate line", ""]);
                    return reason;
                }
                if (_options.RequireChangeId)
                {
                    var reason = $"commit {abbrev}: missing Change-Id in message footer";
                    errors.AddRange([
                        "ERROR: " + reason, "",
                        "Hint: to automatically insert a Change-Id, install the hook:",
                        $"  f=\"$(git rev-parse --git-dir)/hooks/commit-msg\"; curl -o \"$f\" {HttpUrl}/tools/hooks/commit-msg ; chmod +x \"$f\"",
                        "and then amend the commit:", "  git commit --amend --no-edit", "Finally, push your changes again", "",
                    ]);
                    return reason;
                }
                changeId = "I" + sha; // what Gerrit uses when receive.requireChangeId is false
            }
            else if (ids.Count > 1) return Refuse($"commit {abbrev}: multiple Change-Id lines in message footer");
            else if (!IsChangeId(ids[0]) || ids[0].Trim('I', '0').Length == 0) return Refuse($"commit {abbrev}: invalid Change-Id line format in message footer");
            else changeId = ids[0];

            if (plan.Any(p => p.ChangeId == changeId))
                return Refuse("same Change-Id in multiple changes.\nSquash the commits with the same Change-Id or ensure Change-Ids are unique for each commit");
            var existing = _changes.Values.FirstOrDefault(c => c.Project == s.Project && c.Branch == branch && c.ChangeId == changeId);
            if (existing is { IsOpen: false }) return Refuse($"change {ChangeUrl(existing)} closed");
            plan.Add((commit, changeId, existing));
        }

        foreach (var (commit, changeId, existing) in plan)
        {
            var (change, _, _) = await AddPatchSetAsync(s.Project, branch, existing, changeId, commit.Sha, commit.Parents, commit.Tree,
                commit.Message, s.User, AuthorAccount(commit), topic, DateTimeOffset.UtcNow, emitCreated: true, ct);
            // Each account once; Gerrit never makes the owner a reviewer of its own change.
            foreach (var r in reviewers)
                if (r.Id != change.Owner.Id && !change.Reviewers.Contains(r.Id)) change.Reviewers.Add(r.Id);
            uploaded.Add((change, existing is null));
        }
        return null;

        string Refuse(string reason)
        {
            errors.Add("ERROR: " + reason.Split('\n')[0]);
            return reason;
        }
    }

    /// <summary>The account a push option <c>r=</c> names: username, email or account id, as Gerrit resolves it.</summary>
    private GerritAccount? ReviewerAccount(string name)
    {
        lock (_accounts)
            return _accounts.Values.FirstOrDefault(a => a.Username == name || a.Email.Equals(name, StringComparison.OrdinalIgnoreCase)
                || a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == name);
    }

        /// <summary>A push straight to a branch or tag: only for accounts allowed to; a branch update closes the open changes it contains.</summary>
    private async Task<string?> ReceiveDirectAsync(PushSession s, PushCommand cmd, CancellationToken ct)
    {
        var verb = cmd.OldId == GitRepos.ZeroId ? "create" : cmd.NewId == GitRepos.ZeroId ? "delete" : "update";
        var isBranch = cmd.Ref.StartsWith("refs/heads/", StringComparison.Ordinal);
        if (!(isBranch || cmd.Ref.StartsWith("refs/tags/", StringComparison.Ordinal)) || !MayPushDirectly(s.User, s.Project))
            return $"prohibited by Gerrit: not permitted: {verb}";
        var current = await Slipway.Embedded.ProcessRunner.RunAsync("git",
            ["--git-dir", _git.PathOf(s.Project), "rev-parse", "--verify", "--quiet", cmd.Ref], ct: ct);
        if ((current.Succeeded ? current.StdOut.Trim() : GitRepos.ZeroId) != cmd.OldId) return "failed to lock";
        if (isBranch && verb != "delete" && await _git.ResolveAsync(s.Project, cmd.NewId, ct) != cmd.NewId)
            return $"invalid object {cmd.NewId} for a branch: not a commit";
        if (isBranch && verb == "update")
        {
            var ancestor = await Slipway.Embedded.ProcessRunner.RunAsync("git",
                ["--git-dir", _git.PathOf(s.Project), "merge-base", "--is-ancestor", cmd.OldId, cmd.NewId], ct: ct);
            if (!ancestor.Succeeded) return "prohibited by Gerrit: not permitted: force update";
        }
        var update = await Slipway.Embedded.ProcessRunner.RunAsync("git", verb == "delete"
            ? ["--git-dir", _git.PathOf(s.Project), "update-ref", "-d", cmd.Ref, cmd.OldId]
            : ["--git-dir", _git.PathOf(s.Project), "update-ref", cmd.Ref, cmd.NewId, cmd.OldId], ct: ct);
        if (!update.Succeeded) return "failed to lock";

        var now = DateTimeOffset.UtcNow;
        EmitRefUpdated(s.Project, cmd.Ref, cmd.OldId, cmd.NewId, s.User, now);
        if (isBranch && verb != "delete") await CloseChangesMergedByPushAsync(s, cmd, now, ct);
        return null;
    }

    /// <summary>
    /// Gerrit closes an open change of the branch when a direct push brings its patch set in, or a commit with its
    /// Change-Id (then as a new patch set, without `patchset-created`): `change-merged` by the pusher.
    /// </summary>
    private async Task CloseChangesMergedByPushAsync(PushSession s, PushCommand cmd, DateTimeOffset now, CancellationToken ct)
    {
        var branch = cmd.Ref["refs/heads/".Length..];
        var open = _changes.Values.Where(c => c.Project == s.Project && c.Branch == branch && c.IsOpen).ToList();
        if (open.Count == 0) return;
        var args = new List<string> { "rev-list", "--reverse", "--topo-order", "--max-count=1000", cmd.NewId };
        if (cmd.OldId != GitRepos.ZeroId) args.Add("^" + cmd.OldId);
        else
        {
            var others = await _git.GitAsync(s.Project, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"], ct: ct);
            foreach (var line in others.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (line.Split(' ') is [var name, var id] && name != cmd.Ref) args.Add("^" + id);
        }
        foreach (var sha in (await _git.GitAsync(s.Project, args, ct: ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var change = open.FirstOrDefault(c => c.IsOpen && c.PatchSets.Any(p => p.Revision == sha));
            if (change is null)
            {
                var commit = await ReadCommitAsync(s.Project, sha, ct);
                var ids = ChangeIdFooters(commit.Message);
                change = ids.Count == 1 ? open.FirstOrDefault(c => c.IsOpen && c.ChangeId == ids[0]) : null;
                if (change is null) continue;
                await AddPatchSetAsync(s.Project, branch, change, change.ChangeId, sha, commit.Parents, commit.Tree, commit.Message,
                    s.User, AuthorAccount(commit), topic: null, now, emitCreated: false, ct);
            }
            change.Status = "MERGED";
            change.Submitted = now;
            change.Submitter = s.User;
            change.Updated = now;
            change.Messages.Add(new ChangeMessageState
            {
                Id = Guid.NewGuid().ToString("N"), Author = s.User, Date = now, PatchSet = change.Current.Number,
                Message = "Change has been successfully pushed.", Tag = "autogenerated:gerrit:merged",
            });
            EmitChangeEvent(new JsonObject { ["submitter"] = s.User.ToEventJson(), ["newRev"] = sha }, "change-merged", change, change.Current, now);
        }
    }

    private sealed record CommitInfo(string Sha, string Tree, string[] Parents, string AuthorName, string AuthorEmail, string Message);

    private async Task<CommitInfo> ReadCommitAsync(string project, string sha, CancellationToken ct)
    {
        var raw = await _git.GitAsync(project, ["cat-file", "commit", sha], ct: ct);
        var split = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var headers = (split >= 0 ? raw[..split] : raw).Split('\n');
        var message = split >= 0 ? raw[(split + 2)..] + "\n" : "";
        string tree = "", name = "", email = "";
        var parents = new List<string>();
        foreach (var h in headers)
        {
            if (h.StartsWith("tree ", StringComparison.Ordinal)) tree = h[5..];
            else if (h.StartsWith("parent ", StringComparison.Ordinal)) parents.Add(h[7..]);
            else if (h.StartsWith("author ", StringComparison.Ordinal))
            {
                var lt = h.IndexOf('<');
                var gt = h.IndexOf('>', Math.Max(lt, 0));
                if (lt > 7 && gt > lt) { name = h[7..lt].Trim(); email = h[(lt + 1)..gt]; }
            }
        }
        return new CommitInfo(sha, tree, [.. parents], name, email, message);
    }

    /// <summary>The author as an account when one has that email (as Gerrit resolves it), else just name and email.</summary>
    private GerritAccount AuthorAccount(CommitInfo c)
    {
        lock (_accounts)
            return _accounts.Values.FirstOrDefault(a => a.Email.Equals(c.AuthorEmail, StringComparison.OrdinalIgnoreCase))
                   ?? new GerritAccount(0, c.AuthorName, c.AuthorEmail, "");
    }

    /// <summary>The values of `Change-Id:` footer lines: the message's last paragraph, never its subject paragraph.</summary>
    internal static List<string> ChangeIdFooters(string message)
    {
        var paragraphs = Regex.Split(message.Replace("\r\n", "\n").Trim('\n'), @"\n[ \t]*\n");
        if (paragraphs.Length < 2) return [];
        var ids = new List<string>();
        foreach (var line in paragraphs[^1].Split('\n'))
            if (FooterLine.Match(line) is { Success: true } m && m.Groups[1].Value.Equals("Change-Id", StringComparison.OrdinalIgnoreCase))
                ids.Add(m.Groups[2].Value.Trim());
        return ids;
    }
}
