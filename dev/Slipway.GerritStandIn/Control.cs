using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Slipway.GerritStandIn;

public sealed partial class GerritStandIn
{
    /// <summary>Creates a project: a bare repository with an initial (empty) commit on <paramref name="branch"/>. Emits `project-created` and `ref-updated`.</summary>
    public async Task CreateProjectAsync(string name, string branch = "master", CancellationToken ct = default)
    {
        ValidateProjectName(name);
        await _mutex.WaitAsync(ct);
        try
        {
            if (_projects.ContainsKey(name)) throw new StandInException(409, $"Project already exists");
            var now = DateTimeOffset.UtcNow;
            var commit = await _git.CreateAsync(name, branch, Developer, now, ct);
            _projects[name] = branch;
            Emit(new JsonObject
            {
                ["projectName"] = name, ["headName"] = "refs/heads/" + branch,
                ["type"] = "project-created", ["eventCreatedOn"] = now.ToUnixTimeSeconds(),
            }, name);
            EmitRefUpdated(name, "refs/heads/" + branch, GitRepos.ZeroId, commit, Developer, now);
        }
        finally { _mutex.Release(); }
    }

    public IReadOnlyList<string> Projects() { lock (_projects) return [.. _projects.Keys]; }

    /// <summary>
    /// Uploads a patch set, as `git push origin HEAD:refs/for/BRANCH` would: a real commit whose tree is the
    /// parent's (the branch tip for a new change; the previous patch set's for an existing one, like
    /// `git commit --amend`) with <paramref name="files"/> written (null content deletes a file), the ref
    /// `refs/changes/NN/N/P`, and `patchset-created`. With the Change-Id of an open change on the same
    /// project and branch, it adds a patch set to that change; otherwise it creates a change.
    /// </summary>
    public async Task<UploadResult> UploadPatchsetAsync(string project, string branch, IReadOnlyDictionary<string, string?> files,
        string subject, string? changeId = null, GerritAccount? uploader = null, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Contains('\n')) throw new StandInException(400, "subject must be one non-empty line");
        if (changeId is not null && !IsChangeId(changeId)) throw new StandInException(400, $"invalid Change-Id: {changeId}");
        uploader ??= Developer;
        await _mutex.WaitAsync(ct);
        try
        {
            if (!_projects.ContainsKey(project)) throw new StandInException(404, $"Not found: {project}");
            var tip = await _git.ResolveAsync(project, "refs/heads/" + branch, ct)
                      ?? throw new StandInException(400, $"branch {branch} not found");
            var change = changeId is null ? null : _changes.Values.FirstOrDefault(c =>
                c.ChangeId == changeId && c.Project == project && c.Branch == branch);
            if (change is { IsOpen: false }) throw new StandInException(409, $"change {change.Number} closed");
            changeId ??= "I" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

            var now = DateTimeOffset.UtcNow;
            var previous = change?.Current;
            var parent = previous?.Parents[0] ?? tip;
            var baseTree = previous?.Tree ?? await _git.GitAsync(project, ["rev-parse", parent + "^{tree}"], ct: ct);
            var tree = await _git.WriteTreeAsync(project, baseTree, files, ct);
            var message = $"{subject}\n\nChange-Id: {changeId}\n";
            var revision = await _git.GitAsync(project, ["commit-tree", tree, "-p", parent], stdin: message,
                env: GitRepos.Identity(uploader, uploader, now), ct: ct);
            var (created, ps, json) = await AddPatchSetAsync(project, branch, change, changeId, revision, [parent], tree, message,
                uploader, uploader, topic: null, now, emitCreated: true, ct);
            return new UploadResult(project, branch, created.Number, changeId, ps.Number, revision, parent, ps.Ref, json);
        }
        finally { _mutex.Release(); }
    }

    /// <summary>
    /// A human review through the UI: records the message and votes and emits `comment-added`
    /// (`comment` = "Patch Set N: Label+V\n\ntext", `approvals` with `oldValue` for changed labels).
    /// </summary>
    public async Task<string> CommentAsync(int changeNumber, string text, GerritAccount? author = null,
        IReadOnlyDictionary<string, int>? approvals = null, CancellationToken ct = default)
    {
        author ??= Developer;
        await _mutex.WaitAsync(ct);
        try
        {
            var change = FindChangeByNumber(changeNumber);
            var labels = approvals ?? new Dictionary<string, int>();
            ValidateLabels(labels, change, author);
            return ApplyReview(change, change.Current, author, text, labels, tag: null, DateTimeOffset.UtcNow);
        }
        finally { _mutex.Release(); }
    }

    /// <summary>
    /// Submits the change: fast-forwards the branch to the current patch set (or, when the branch moved,
    /// creates a real merge commit). Emits `change-merged` then `ref-updated` of the branch.
    /// </summary>
    public async Task<string> MergeAsync(int changeNumber, GerritAccount? submitter = null, CancellationToken ct = default)
    {
        submitter ??= Developer;
        await _mutex.WaitAsync(ct);
        try
        {
            var change = FindChangeByNumber(changeNumber);
            if (!change.IsOpen) throw new StandInException(409, $"change is {change.Status.ToLowerInvariant()}");
            var ps = change.Current;
            var now = DateTimeOffset.UtcNow;
            var branchRef = change.RefName;
            var tip = await _git.ResolveAsync(change.Project, branchRef, ct) ?? throw new StandInException(409, "branch is gone");
            string newRev;
            if (tip == ps.Parents[0]) newRev = ps.Revision;
            else
            {
                var r = await Slipway.Embedded.ProcessRunner.RunAsync("git",
                    ["--git-dir", _git.PathOf(change.Project), "merge-tree", "--write-tree", tip, ps.Revision], ct: ct);
                if (!r.Succeeded) throw new StandInException(409, $"Change {change.Number}: change could not be merged due to a path conflict.");
                var tree = r.StdOut.Split('\n')[0].Trim();
                newRev = await _git.GitAsync(change.Project, ["commit-tree", tree, "-p", tip, "-p", ps.Revision],
                    stdin: $"Merge \"{change.Subject}\"\n", env: GitRepos.Identity(submitter, submitter, now), ct: ct);
            }
            await _git.GitAsync(change.Project, ["update-ref", branchRef, newRev, tip], ct: ct);
            change.Status = "MERGED";
            change.Submitted = now;
            change.Submitter = submitter;
            change.Updated = now;
            change.Messages.Add(new ChangeMessageState
            {
                Id = Guid.NewGuid().ToString("N"), Author = submitter, Date = now, PatchSet = ps.Number,
                Message = $"Change has been successfully merged by {submitter.Name}", Tag = "autogenerated:gerrit:merged",
            });
            var ev = new JsonObject { ["submitter"] = submitter.ToEventJson(), ["newRev"] = newRev };
            EmitChangeEvent(ev, "change-merged", change, ps, now);
            EmitRefUpdated(change.Project, branchRef, tip, newRev, submitter, now);
            return newRev;
        }
        finally { _mutex.Release(); }
    }

    /// <summary>Abandons the change; emits `change-abandoned` (with `abandoner` and `reason`).</summary>
    public async Task AbandonAsync(int changeNumber, string? reason = null, GerritAccount? abandoner = null, CancellationToken ct = default)
    {
        abandoner ??= Developer;
        await _mutex.WaitAsync(ct);
        try
        {
            var change = FindChangeByNumber(changeNumber);
            if (!change.IsOpen) throw new StandInException(409, $"change is {change.Status.ToLowerInvariant()}");
            var now = DateTimeOffset.UtcNow;
            change.Status = "ABANDONED";
            change.Updated = now;
            change.Messages.Add(new ChangeMessageState
            {
                Id = Guid.NewGuid().ToString("N"), Author = abandoner, Date = now, PatchSet = change.Current.Number,
                Message = "Abandoned" + (string.IsNullOrEmpty(reason) ? "" : "\n\n" + reason), Tag = "autogenerated:gerrit:abandon",
            });
            var ev = new JsonObject { ["abandoner"] = abandoner.ToEventJson() };
            if (!string.IsNullOrEmpty(reason)) ev["reason"] = reason;
            EmitChangeEvent(ev, "change-abandoned", change, change.Current, now);
        }
        finally { _mutex.Release(); }
    }

    /// <summary>
    /// Moves the REST date of the change's messages that contain <paramref name="text"/> by <paramref name="by"/>, as
    /// real Gerrit may date a message a second or more apart from its live event's `eventCreatedOn` (the update's time
    /// against the event's). The emitted events stay as they were. Returns how many messages moved.
    /// </summary>
    public async Task<int> ShiftMessageDatesAsync(int changeNumber, string text, TimeSpan by, CancellationToken ct = default)
    {
        await _mutex.WaitAsync(ct);
        try
        {
            var moved = 0;
            foreach (var m in FindChangeByNumber(changeNumber).Messages.Where(m => m.Message.Contains(text, StringComparison.Ordinal)))
            {
                m.Date += by;
                moved++;
            }
            return moved;
        }
        finally { _mutex.Release(); }
    }

    /// <summary>Restores an abandoned change; emits `change-restored`.</summary>
    public async Task RestoreAsync(int changeNumber, string? reason = null, GerritAccount? restorer = null, CancellationToken ct = default)
    {
        restorer ??= Developer;
        await _mutex.WaitAsync(ct);
        try
        {
            var change = FindChangeByNumber(changeNumber);
            if (change.Status != "ABANDONED") throw new StandInException(409, "change is " + change.Status.ToLowerInvariant());
            var now = DateTimeOffset.UtcNow;
            change.Status = "NEW";
            change.Updated = now;
            var ev = new JsonObject { ["restorer"] = restorer.ToEventJson() };
            if (!string.IsNullOrEmpty(reason)) ev["reason"] = reason;
            EmitChangeEvent(ev, "change-restored", change, change.Current, now);
        }
        finally { _mutex.Release(); }
    }

    /// <summary>The change's current status (`NEW`, `MERGED`, `ABANDONED`).</summary>
    public string ChangeStatus(int changeNumber)
    {
        _mutex.Wait();
        try { return FindChangeByNumber(changeNumber).Status; }
        finally { _mutex.Release(); }
    }

    /// <summary>A change as a reviewer sees it: project, branch, subject, status, topic and its current patch set.</summary>
    public ChangeView Change(int changeNumber)
    {
        _mutex.Wait();
        try
        {
            var c = FindChangeByNumber(changeNumber);
            return new ChangeView(c.Number, c.Project, c.Branch, c.ChangeId, c.Subject, c.Status, c.Topic, c.Current.Number, c.Current.Revision);
        }
        finally { _mutex.Release(); }
    }

    /// <summary>A file of a change's current patch set, as `git show REVISION:PATH` prints it; null when the patch set has no such file.</summary>
    public async Task<string?> FileOfCurrentPatchSetAsync(int changeNumber, string path, CancellationToken ct = default)
    {
        var change = Change(changeNumber);
        try
        {
            return await _git.GitAsync(change.Project, ["cat-file", "blob", $"{change.Revision}:{path}"], ct: ct);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // ---- shared by the control API and REST set-review (callers hold _mutex) ----

    private ChangeState FindChangeByNumber(int number) =>
        _changes.TryGetValue(number, out var c) ? c : throw new StandInException(404, $"Not found: {number}");

    private void ValidateLabels(IReadOnlyDictionary<string, int> labels, ChangeState change, GerritAccount account)
    {
        foreach (var (name, value) in labels)
        {
            LabelDefinition? def;
            lock (_labels) _labels.TryGetValue(name, out def);
            if (def is null) throw new StandInException(400, $"label \"{name}\" is not a configured label");
            if (value < def.Min || value > def.Max) throw new StandInException(400, $"label \"{name}\": {value} is not a valid value");
        }
        var changed = labels.Where(l => CurrentVote(change, l.Key, account) != l.Value).ToList();
        if (changed.Count == 0) return;
        if (change.Status == "ABANDONED") throw new StandInException(409, "change is closed");
        if (change.Status == "MERGED")
        {
            var disallowed = changed.Where(l => { lock (_labels) return !_labels[l.Key].AllowPostSubmit; }).Select(l => l.Key).ToList();
            if (disallowed.Count > 0) throw new StandInException(409, "Voting on labels disallowed after submit: " + string.Join(", ", disallowed));
            var reduced = changed.Where(l => l.Value < CurrentVote(change, l.Key, account)).Select(l => l.Key).ToList();
            if (reduced.Count > 0) throw new StandInException(409, "Cannot reduce vote on labels for closed change: " + string.Join(", ", reduced));
        }
    }

    private static int CurrentVote(ChangeState change, string label, GerritAccount account) =>
        change.Votes.TryGetValue(label, out var byAccount) && byAccount.TryGetValue(account.Id, out var v) ? v : 0;

    /// <summary>Records votes and the change message; emits `comment-added` when anything was said or changed. Returns the event JSON (or "").</summary>
    private string ApplyReview(ChangeState change, PatchSetState ps, GerritAccount author, string? text,
        IReadOnlyDictionary<string, int> labels, string? tag, DateTimeOffset now)
    {
        var old = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (label, value) in labels)
        {
            var current = CurrentVote(change, label, author);
            if (current == value) continue;
            old[label] = current;
            if (!change.Votes.TryGetValue(label, out var byAccount)) change.Votes[label] = byAccount = [];
            if (value == 0) byAccount.Remove(author.Id); else byAccount[author.Id] = value;
        }
        if (old.Count == 0 && string.IsNullOrEmpty(text)) return "";

        var header = $"Patch Set {ps.Number}:";
        foreach (var label in old.Keys.Order(StringComparer.Ordinal))
        {
            var v = labels[label];
            header += v == 0 ? $" -{label}" : $" {label}{(v > 0 ? "+" : "")}{v}";
        }
        var message = string.IsNullOrEmpty(text) ? header : header + "\n\n" + text;
        change.Messages.Add(new ChangeMessageState
        {
            Id = Guid.NewGuid().ToString("N"), Author = author, Date = now, PatchSet = ps.Number, Message = message, Tag = tag,
        });
        change.Updated = now;

        var approvals = new JsonArray();
        foreach (var (label, byAccount) in change.Votes.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var has = byAccount.TryGetValue(author.Id, out var value);
            if (!has && !old.ContainsKey(label)) continue;
            var a = new JsonObject { ["type"] = label, ["description"] = label, ["value"] = value.ToString() };
            if (old.TryGetValue(label, out var o)) a["oldValue"] = o.ToString();
            approvals.Add(a);
        }
        var ev = new JsonObject { ["author"] = author.ToEventJson() };
        if (approvals.Count > 0) ev["approvals"] = approvals;
        ev["comment"] = message;
        return EmitChangeEvent(ev, "comment-added", change, ps, now);
    }

    /// <summary>Appends patchSet, change, project, refName, changeKey, type, eventCreatedOn (Gerrit's field order) and emits.</summary>
    private string EmitChangeEvent(JsonObject ev, string type, ChangeState change, PatchSetState? ps, DateTimeOffset now)
    {
        if (ps is not null) ev["patchSet"] = PatchSetJson(ps);
        ev["change"] = ChangeJson(change);
        ev["project"] = change.Project;
        ev["refName"] = change.RefName;
        ev["changeKey"] = new JsonObject { ["id"] = change.ChangeId };
        ev["type"] = type;
        ev["eventCreatedOn"] = now.ToUnixTimeSeconds();
        return Emit(ev, change.Project);
    }

    private void EmitRefUpdated(string project, string refName, string oldRev, string newRev, GerritAccount? submitter, DateTimeOffset now)
    {
        var ev = new JsonObject();
        if (submitter is not null) ev["submitter"] = submitter.ToEventJson();
        ev["refUpdate"] = new JsonObject { ["oldRev"] = oldRev, ["newRev"] = newRev, ["refName"] = refName, ["project"] = project };
        ev["type"] = "ref-updated";
        ev["eventCreatedOn"] = now.ToUnixTimeSeconds();
        Emit(ev, project);
    }

    private JsonObject ChangeJson(ChangeState c)
    {
        var o = new JsonObject
        {
            ["project"] = c.Project, ["branch"] = c.Branch,
        };
        if (c.Topic is not null) o["topic"] = c.Topic;
        o["id"] = c.ChangeId;
        o["number"] = c.Number;
        o["subject"] = c.Subject;
        o["owner"] = c.Owner.ToEventJson();
        o["url"] = $"{HttpUrl}/c/{c.Project}/+/{c.Number}";
        o["commitMessage"] = c.Current.CommitMessage;
        o["createdOn"] = c.Created.ToUnixTimeSeconds();
        o["status"] = c.Status;
        return o;
    }

    private static JsonObject PatchSetJson(PatchSetState ps) => new()
    {
        ["number"] = ps.Number,
        ["revision"] = ps.Revision,
        ["parents"] = new JsonArray([.. ps.Parents.Select(p => (JsonNode)p)]),
        ["ref"] = ps.Ref,
        ["uploader"] = ps.Uploader.ToEventJson(),
        ["createdOn"] = ps.Created.ToUnixTimeSeconds(),
        ["author"] = ps.Author.ToEventJson(),
        ["kind"] = ps.Kind,
        ["sizeInsertions"] = ps.Insertions,
        ["sizeDeletions"] = ps.Deletions,
    };

    /// <summary>`refs/changes/NN/N/P`, NN = N mod 100, two digits.</summary>
    public static string PatchSetRef(int change, int patchSet) => $"refs/changes/{change % 100:D2}/{change}/{patchSet}";

    private static bool IsChangeId(string s) => s.Length == 41 && s[0] == 'I' && s[1..].All(Uri.IsHexDigit);

    private static void ValidateProjectName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith('/') || name.EndsWith('/') || name.EndsWith(".git") ||
            name.Split('/').Any(s => s is "" or "." or ".." || s.StartsWith('.')) ||
            name.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' or '/')))
            throw new StandInException(400, $"invalid project name: {name}");
    }
}

/// <summary>A control or REST failure with the HTTP status Gerrit would answer.</summary>
public sealed class StandInException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
