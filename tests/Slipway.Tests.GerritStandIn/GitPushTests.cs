using System.Net;
using System.Text.Json.Nodes;
using Slipway.Embedded;
using Slipway.GerritStandIn;
using Stand = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.GerritStandIn;

/// <summary>`git push` over HTTP with the real git client: refs/for creates changes and patch sets, direct pushes need permission.</summary>
public sealed class GitPushTests
{
    private const string Project = "team/app";

    [Fact]
    public async Task Push_for_review_creates_change_1_then_patch_sets_keeping_modes_and_symlinks()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync(Project);
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key);
        using var work = await Workspace.CloneAsync(g);
        var changeId = "I" + new string('a', 40);

        File.WriteAllText(Path.Combine(work.Path, "README.md"), "# app\n");
        File.WriteAllText(Path.Combine(work.Path, "run.sh"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(work.Path, "run.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(work.Path, "link"), "../../etc/passwd");
        var ps1 = await work.CommitAsync($"Add app\n\nChange-Id: {changeId}\n");

        var push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.True(push.Succeeded, push.StdErr);
        Assert.Contains("remote: SUCCESS", push.StdErr);
        Assert.Contains($"remote:   {g.HttpUrl}/c/{Project}/+/1 Add app [NEW]", push.StdErr);
        Assert.Contains(" * [new reference]   HEAD -> refs/for/master", push.StdErr);

        var refUpdated = await stream.NextOfTypeAsync("ref-updated");
        Assert.Equal("refs/changes/01/1/1", (string?)refUpdated["refUpdate"]!["refName"]);
        Assert.Equal(ps1, (string?)refUpdated["refUpdate"]!["newRev"]);
        var created = await stream.NextOfTypeAsync("patchset-created");
        Assert.Equal(1, (int)created["change"]!["number"]!);
        Assert.Equal(changeId, (string?)created["change"]!["id"]);
        Assert.Equal("Add app", (string?)created["change"]!["subject"]);
        Assert.Equal($"Add app\n\nChange-Id: {changeId}\n", (string?)created["change"]!["commitMessage"]);
        Assert.Equal("jane", (string?)created["change"]!["owner"]!["username"]);
        Assert.Equal("jane", (string?)created["uploader"]!["username"]);
        Assert.Equal(1, (int)created["patchSet"]!["number"]!);
        Assert.Equal(ps1, (string?)created["patchSet"]!["revision"]);
        Assert.Equal("REWORK", (string?)created["patchSet"]!["kind"]);
        Assert.Equal(4, (int)created["patchSet"]!["sizeInsertions"]!); // README 1 + run.sh 2 + the link target 1

        // What anyone fetches is exactly what was pushed: modes, the symlink and its target as git stores them.
        using var check = new TempDir();
        await Git.CheckedAsync(check.Path, "init", "-q");
        await Git.CheckedAsync(check.Path, "fetch", "-q", $"{g.HttpUrl}/{Project}", "refs/changes/01/1/1");
        Assert.Equal(ps1, await Git.CheckedAsync(check.Path, "rev-parse", "FETCH_HEAD"));
        var tree = (await Git.CheckedAsync(check.Path, "ls-tree", "-r", "FETCH_HEAD")).Split('\n').Select(l => l.Split(' ', 3)[0] + " " + l.Split('\t')[1]);
        Assert.Equal(["100644 README.md", "120000 link", "100755 run.sh"], tree);
        Assert.Equal("../../etc/passwd", await Git.CheckedAsync(check.Path, "cat-file", "-p", "FETCH_HEAD:link"));

        // Amended content, same Change-Id: patch set 2 of change 1 (no [NEW]).
        File.WriteAllText(Path.Combine(work.Path, "README.md"), "# app\n\nmore\n");
        var ps2 = await work.CommitAsync($"Add app\n\nChange-Id: {changeId}\n", amend: true);
        push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.True(push.Succeeded, push.StdErr);
        Assert.Contains($"remote:   {g.HttpUrl}/c/{Project}/+/1 Add app\n", push.StdErr.Replace("        \n", "\n").Replace("\r", ""));
        Assert.DoesNotContain("[NEW]", push.StdErr);
        var second = await stream.NextOfTypeAsync("patchset-created");
        Assert.Equal((1, 2, ps2, "REWORK"), ((int)second["change"]!["number"]!, (int)second["patchSet"]!["number"]!,
            (string?)second["patchSet"]!["revision"], (string?)second["patchSet"]!["kind"]));

        // Only the message changed: NO_CODE_CHANGE; `%topic=` and other options are accepted, the topic kept.
        var ps3 = await work.CommitAsync($"Add the app\n\nChange-Id: {changeId}\n", amend: true);
        g.AddAccount("Someone", "someone@example.com", "someone"); // a reviewer Gerrit knows (an unknown one refuses the push)
        push = await work.PushAsync(g, "HEAD:refs/for/master%topic=launch,r=someone@example.com,wip");
        Assert.True(push.Succeeded, push.StdErr);
        var third = await stream.NextOfTypeAsync("patchset-created");
        Assert.Equal((3, ps3, "NO_CODE_CHANGE"), ((int)third["patchSet"]!["number"]!, (string?)third["patchSet"]!["revision"], (string?)third["patchSet"]!["kind"]));
        Assert.Equal("launch", (string?)third["change"]!["topic"]);
        Assert.Equal("Add the app", (string?)third["change"]!["subject"]);

        // The same commit again: Gerrit's "no new changes"; nothing emitted.
        var before = g.Events().Count;
        push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.False(push.Succeeded);
        Assert.Contains(" ! [remote rejected] HEAD -> refs/for/master (no new changes)", push.StdErr);
        Assert.Equal(before, g.Events().Count);
        var remote = await Git.CheckedAsync(check.Path, "ls-remote", $"{g.HttpUrl}/{Project}");
        Assert.Contains($"{ps1}\trefs/changes/01/1/1", remote);
        Assert.Contains($"{ps2}\trefs/changes/01/1/2", remote);
        Assert.Contains($"{ps3}\trefs/changes/01/1/3", remote);
        Assert.DoesNotContain("refs/for/", remote);
    }

    [Fact]
    public async Task Push_without_change_id_is_refused_with_gerrits_message_and_anonymous_push_must_log_in()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync(Project);
        using var work = await Workspace.CloneAsync(g);
        File.WriteAllText(Path.Combine(work.Path, "a.txt"), "a\n");
        var sha = await work.CommitAsync("No footer here\n");

        var push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.False(push.Succeeded);
        var reason = $"commit {sha[..7]}: missing Change-Id in message footer";
        Assert.Contains($"remote: ERROR: {reason}", push.StdErr);
        Assert.Contains("remote: Hint: to automatically insert a Change-Id, install the hook:", push.StdErr);
        Assert.Contains($" ! [remote rejected] HEAD -> refs/for/master ({reason})", push.StdErr);
        Assert.DoesNotContain(g.Events(), e => e.Type == "patchset-created");

        // Two Change-Id lines, or one that is not a Change-Id, are refused the same way.
        await work.CommitAsync($"Two ids\n\nChange-Id: I{new string('1', 40)}\nChange-Id: I{new string('2', 40)}\n", amend: true);
        Assert.Contains("multiple Change-Id lines in message footer)", (await work.PushAsync(g, "HEAD:refs/for/master")).StdErr);
        await work.CommitAsync("Bad id\n\nChange-Id: not-an-id\n", amend: true);
        Assert.Contains("invalid Change-Id line format in message footer)", (await work.PushAsync(g, "HEAD:refs/for/master")).StdErr);
        Assert.Contains("(branch nope not found)", (await work.PushAsync(g, "HEAD:refs/for/nope")).StdErr);
        await work.CommitAsync($"Id too early\n\nChange-Id: I{new string('4', 40)}\n\nMore words.\n", amend: true);
        var early = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.Contains("remote: and move 'Change-Id: Ixxx..' to the bottom on a separate line", early.StdErr);
        Assert.Contains("Change-Id must be in message footer)", early.StdErr);
        await work.CommitAsync($"Placeholder\n\nChange-Id: I{new string('0', 40)}\n", amend: true);
        Assert.Contains("invalid Change-Id line format in message footer)", (await work.PushAsync(g, "HEAD:refs/for/master")).StdErr);

        // No credentials, or a wrong password: the push never reaches receive-pack.
        await work.CommitAsync($"Fine\n\nChange-Id: I{new string('3', 40)}\n", amend: true);
        var anonymous = await work.PushToAsync($"{g.HttpUrl}/{Project}", "HEAD:refs/for/master");
        Assert.False(anonymous.Succeeded);
        Assert.Contains("could not read Username", anonymous.StdErr); // asked to log in (401), with prompts off
        var wrong = await work.PushToAsync(Workspace.Url(g, Project, "jane", "wrong"), "HEAD:refs/for/master");
        Assert.False(wrong.Succeeded);
        Assert.Contains("Authentication failed", wrong.StdErr);
        using var http = new HttpClient();
        var challenge = await http.GetAsync($"{g.HttpUrl}/{Project}/info/refs?service=git-receive-pack");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal("Basic realm=\"Gerrit Code Review\"", challenge.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(g.Events(), e => e.Type == "patchset-created");
        Assert.True((await work.PushAsync(g, "HEAD:refs/for/master")).Succeeded);
    }

    [Fact]
    public async Task Without_require_change_id_gerrit_derives_the_change_id_from_the_commit()
    {
        await using var g = await Stand.StartAsync(options: new GerritStandInOptions { RequireChangeId = false });
        await g.CreateProjectAsync(Project);
        using var work = await Workspace.CloneAsync(g);
        File.WriteAllText(Path.Combine(work.Path, "a.txt"), "a\n");
        var sha = await work.CommitAsync("No footer here\n");
        var push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.True(push.Succeeded, push.StdErr);
        var created = JsonNode.Parse(g.Events().Single(e => e.Type == "patchset-created").Json)!;
        Assert.Equal("I" + sha, (string?)created["change"]!["id"]);
    }

    [Fact]
    public async Task Direct_push_is_refused_unless_allowed_and_then_emits_ref_updated_and_closes_the_change_it_brings_in()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync(Project);
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key);
        using var work = await Workspace.CloneAsync(g);
        var master = await Git.CheckedAsync(work.Path, "rev-parse", "HEAD");
        File.WriteAllText(Path.Combine(work.Path, "a.txt"), "a\n");
        var changeId = "I" + new string('b', 40);
        var sha = await work.CommitAsync($"Add a\n\nChange-Id: {changeId}\n");
        Assert.True((await work.PushAsync(g, "HEAD:refs/for/master")).Succeeded);

        var refused = await work.PushAsync(g, "HEAD:refs/heads/master");
        Assert.False(refused.Succeeded);
        Assert.Contains(" ! [remote rejected] HEAD -> master (prohibited by Gerrit: not permitted: update)", refused.StdErr);
        Assert.Contains("(prohibited by Gerrit: not permitted: create)", (await work.PushAsync(g, "HEAD:refs/heads/other")).StdErr);
        Assert.Contains("(prohibited by Gerrit: not permitted: create)", (await work.PushAsync(g, "HEAD:refs/changes/01/1/9")).StdErr);
        Assert.Contains($"{master}\trefs/heads/master", await Git.CheckedAsync(work.Path, "ls-remote", $"{g.HttpUrl}/{Project}"));
        Assert.DoesNotContain(g.Events(), e => e.Type == "ref-updated" && e.Json.Contains("\"refName\":\"refs/heads/master\"") && e.Json.Contains(sha));

        // Allowed for this project only (through the control API, as the demo would): the push lands, ref-updated
        // names the pusher, the change it contains is merged.
        using var control = new HttpClient { BaseAddress = new Uri(g.HttpUrl + "/") };
        var info = JsonNode.Parse(await control.GetStringAsync("_standin/info"))!;
        Assert.Equal(("jane", g.DeveloperHttpPassword), ((string?)info["developerUser"], (string?)info["developerHttpPassword"]));
        Assert.Equal(HttpStatusCode.NotFound, (await control.PostAsync("_standin/direct-push", Http.Json(new { username = "nobody" }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await control.PostAsync("_standin/direct-push", Http.Json(new { username = "jane", project = Project }))).StatusCode);
        await stream.NextOfTypeAsync("patchset-created");
        var pushed = await work.PushAsync(g, "HEAD:refs/heads/master");
        Assert.True(pushed.Succeeded, pushed.StdErr);
        var updated = await stream.NextOfTypeAsync("ref-updated");
        Assert.Equal("jane", (string?)updated["submitter"]!["username"]);
        Assert.Equal(new JsonObject { ["oldRev"] = master, ["newRev"] = sha, ["refName"] = "refs/heads/master", ["project"] = Project }.ToJsonString(),
            updated["refUpdate"]!.ToJsonString());
        var merged = await stream.NextOfTypeAsync("change-merged");
        Assert.Equal((1, "MERGED", sha), ((int)merged["change"]!["number"]!, (string?)merged["change"]!["status"], (string?)merged["newRev"]));
        Assert.Equal("MERGED", g.ChangeStatus(1));
        Assert.Contains($"{sha}\trefs/heads/master", await Git.CheckedAsync(work.Path, "ls-remote", $"{g.HttpUrl}/{Project}"));

        // Another project is still closed to jane; a rewrite of master is refused even for her.
        await g.CreateProjectAsync("team/other");
        using var other = await Workspace.CloneAsync(g, "team/other");
        File.WriteAllText(Path.Combine(other.Path, "b.txt"), "b\n");
        await other.CommitAsync("B\n");
        Assert.Contains("(prohibited by Gerrit: not permitted: update)", (await other.PushAsync(g, "HEAD:refs/heads/master", "team/other")).StdErr);
        // An account added over the control API, allowed everywhere, pushes there with its own password.
        Assert.Equal(HttpStatusCode.Created, (await control.PostAsync("_standin/accounts",
            Http.Json(new { name = "Ops", email = "ops@example.com", username = "ops", httpPassword = "ops-password" }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await control.PostAsync("_standin/direct-push", Http.Json(new { username = "ops" }))).StatusCode);
        var byOps = await other.PushToAsync(Workspace.Url(g, "team/other", "ops", "ops-password"), "HEAD:refs/heads/master");
        Assert.True(byOps.Succeeded, byOps.StdErr);
        JsonObject opsUpdate;
        do opsUpdate = await stream.NextOfTypeAsync("ref-updated"); // (skips the project's creation)
        while ((string?)opsUpdate["refUpdate"]!["oldRev"] == "0000000000000000000000000000000000000000");
        Assert.Equal(("team/other", "refs/heads/master", "ops"), ((string?)opsUpdate["refUpdate"]!["project"],
            (string?)opsUpdate["refUpdate"]!["refName"], (string?)opsUpdate["submitter"]!["username"]));
        await Git.CheckedAsync(work.Path, "reset", "-q", "--hard", master);
        File.WriteAllText(Path.Combine(work.Path, "c.txt"), "c\n");
        await work.CommitAsync("C\n");
        Assert.Contains("(prohibited by Gerrit: not permitted: force update)", (await work.PushAsync(g, "+HEAD:refs/heads/master")).StdErr);

        // A direct push of another commit with an open change's Change-Id closes that change too, with the commit
        // recorded as its next patch set (ref-updated of the patch-set ref, but no patchset-created).
        var open = await g.UploadPatchsetAsync(Project, "master", new Dictionary<string, string?> { ["d.txt"] = "d\n" }, "Add d");
        await Git.CheckedAsync(work.Path, "fetch", "-q", $"{g.HttpUrl}/{Project}", "refs/heads/master");
        await Git.CheckedAsync(work.Path, "reset", "-q", "--hard", "FETCH_HEAD");
        File.WriteAllText(Path.Combine(work.Path, "d.txt"), "d, as pushed\n");
        var direct = await work.CommitAsync($"Add d\n\nChange-Id: {open.ChangeId}\n");
        var before = g.Events().Count;
        Assert.True((await work.PushAsync(g, "HEAD:refs/heads/master")).Succeeded);
        var after = g.Events().Skip(before).Select(e => JsonNode.Parse(e.Json)!).ToList();
        Assert.Equal(["ref-updated", "ref-updated", "change-merged"], after.Select(e => (string)e["type"]!));
        Assert.Equal(("refs/heads/master", "refs/changes/02/2/2"), ((string?)after[0]["refUpdate"]!["refName"], (string?)after[1]["refUpdate"]!["refName"]));
        Assert.Equal((2, 2, direct, direct), ((int)after[2]["change"]!["number"]!, (int)after[2]["patchSet"]!["number"]!,
            (string?)after[2]["patchSet"]!["revision"], (string?)after[2]["newRev"]));
        Assert.Equal("MERGED", g.ChangeStatus(open.ChangeNumber));
    }

    [Fact]
    public async Task A_chain_becomes_one_change_per_commit_and_a_rebase_onto_the_moved_branch_is_a_trivial_rebase()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync(Project);
        using var work = await Workspace.CloneAsync(g);
        File.WriteAllText(Path.Combine(work.Path, "a.txt"), "a\n");
        var a = await work.CommitAsync($"First\n\nChange-Id: I{new string('a', 40)}\n");
        File.WriteAllText(Path.Combine(work.Path, "b.txt"), "b\n");
        await work.CommitAsync($"Second\n\nChange-Id: I{new string('b', 40)}\n");
        var push = await work.PushAsync(g, "HEAD:refs/for/master");
        Assert.True(push.Succeeded, push.StdErr);
        Assert.Contains($"/c/{Project}/+/1 First [NEW]", push.StdErr);
        Assert.Contains($"/c/{Project}/+/2 Second [NEW]", push.StdErr);
        var second = JsonNode.Parse(g.Events().Last(e => e.Type == "patchset-created").Json)!;
        Assert.Equal((2, a), ((int)second["change"]!["number"]!, (string?)second["patchSet"]!["parents"]![0]));

        // Only the top commit amended: the first is already patch set 1 of change 1 and is left alone.
        File.WriteAllText(Path.Combine(work.Path, "b.txt"), "b2\n");
        await work.CommitAsync($"Second\n\nChange-Id: I{new string('b', 40)}\n", amend: true);
        var before = g.Events().Count(e => e.Type == "patchset-created");
        Assert.True((await work.PushAsync(g, "HEAD:refs/for/master")).Succeeded);
        var created = g.Events().Where(e => e.Type == "patchset-created").Skip(before).Select(e => JsonNode.Parse(e.Json)!).ToList();
        Assert.Equal([(2, 2, "REWORK")], created.Select(e => ((int)e["change"]!["number"]!, (int)e["patchSet"]!["number"]!, (string)e["patchSet"]!["kind"]!)));

        // Master moves under the chain; the rebased chain is a trivial rebase of both changes.
        var other = await g.UploadPatchsetAsync(Project, "master", new Dictionary<string, string?> { ["c.txt"] = "c\n" }, "Third");
        await g.MergeAsync(other.ChangeNumber);
        await Git.CheckedAsync(work.Path, "fetch", "-q", $"{g.HttpUrl}/{Project}", "refs/heads/master");
        await Git.CheckedAsync(work.Path, "-c", "user.name=Jane Developer", "-c", "user.email=jane@example.com", "rebase", "-q", "FETCH_HEAD");
        before = g.Events().Count(e => e.Type == "patchset-created");
        Assert.True((await work.PushAsync(g, "HEAD:refs/for/master")).Succeeded);
        created = g.Events().Where(e => e.Type == "patchset-created").Skip(before).Select(e => JsonNode.Parse(e.Json)!).ToList();
        Assert.Equal([(1, 2, "TRIVIAL_REBASE"), (2, 3, "TRIVIAL_REBASE")],
            created.Select(e => ((int)e["change"]!["number"]!, (int)e["patchSet"]!["number"]!, (string)e["patchSet"]!["kind"]!)));
    }

    [Fact]
    public async Task Concurrent_pushes_get_distinct_changes()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync(Project);
        var works = new List<Workspace>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var w = await Workspace.CloneAsync(g);
                works.Add(w);
                File.WriteAllText(Path.Combine(w.Path, $"f{i}.txt"), $"{i}\n");
                await w.CommitAsync($"Change {i}\n\nChange-Id: I{i.ToString()[0]}{new string('c', 39)}\n");
            }
            var pushes = await Task.WhenAll(works.Select(w => w.PushAsync(g, "HEAD:refs/for/master")));
            Assert.All(pushes, p => Assert.True(p.Succeeded, p.StdErr));
            var numbers = g.Events().Where(e => e.Type == "patchset-created").Select(e => (int)JsonNode.Parse(e.Json)!["change"]!["number"]!).Order();
            Assert.Equal([1, 2, 3, 4], numbers);
        }
        finally { foreach (var w in works) w.Dispose(); }
    }
}

/// <summary>A clone of a stand-in project with jane's identity, pushing with her HTTP password.</summary>
internal sealed class Workspace : IDisposable
{
    private readonly TempDir _dir = new();
    private string _project = "";
    public string Path => _dir.Path;

    public static string Url(Stand g, string project, string user, string password) =>
        new UriBuilder(g.HttpUrl) { UserName = user, Password = password, Path = "/a/" + project }.Uri.ToString();

    public static async Task<Workspace> CloneAsync(Stand g, string project = "team/app")
    {
        var w = new Workspace { _project = project };
        try
        {
            await Git.CheckedAsync(w.Path, "init", "-q", "-b", "master");
            await Git.CheckedAsync(w.Path, "fetch", "-q", $"{g.HttpUrl}/{project}", "refs/heads/master");
            await Git.CheckedAsync(w.Path, "reset", "-q", "--hard", "FETCH_HEAD");
            return w;
        }
        catch { w.Dispose(); throw; }
    }

    public async Task<string> CommitAsync(string message, bool amend = false)
    {
        await Git.CheckedAsync(Path, "add", "-A");
        var args = new List<string> { "-c", "user.name=Jane Developer", "-c", "user.email=jane@example.com", "commit", "-q", "--allow-empty", "-F", "-" };
        if (amend) args.Add("--amend");
        var r = await ProcessRunner.RunAsync("git", ["-C", Path, .. args], stdin: message, environment: new Dictionary<string, string>
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0",
        });
        Assert.True(r.Succeeded, r.StdErr);
        return await Git.CheckedAsync(Path, "rev-parse", "HEAD");
    }

    public Task<ProcessResult> PushAsync(Stand g, string refspec, string? project = null) =>
        PushToAsync(Url(g, project ?? _project, g.Developer.Username, g.DeveloperHttpPassword!), refspec);

    public Task<ProcessResult> PushToAsync(string url, string refspec) => Git.RunAsync(Path, "push", url, refspec);

    public void Dispose() => _dir.Dispose();
}
