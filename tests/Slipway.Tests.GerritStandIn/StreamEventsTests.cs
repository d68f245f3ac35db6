using System.Text.Json.Nodes;
using Renci.SshNet.Common;
using Stand = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.GerritStandIn;

/// <summary>`gerrit stream-events` through the real sshd, read with SSH.NET as the gateway does.</summary>
public sealed class StreamEventsTests
{
    private static readonly Dictionary<string, string?> Files = new()
    {
        [".pipeline/blubber.yaml"] = "version: v4\nbase: debian\n",
        ["src/app.py"] = "print('hello')\nprint('world')\n",
    };

    [Fact]
    public async Task Upload_streams_the_exact_patchset_created_json()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync("demo/service");
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key);

        var up = await g.UploadPatchsetAsync("demo/service", "master", Files, "Add the service");

        var refUpdated = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("ref-updated", (string?)refUpdated["type"]);
        Assert.Equal("refs/changes/01/1/1", (string?)refUpdated["refUpdate"]!["refName"]);
        Assert.Equal("0000000000000000000000000000000000000000", (string?)refUpdated["refUpdate"]!["oldRev"]);

        var line = await stream.NextLineAsync();
        Assert.Equal(up.EventJson, line); // byte for byte what the stand-in emitted
        var e = JsonNode.Parse(line!)!.AsObject();
        Assert.Equal(["uploader", "patchSet", "change", "project", "refName", "changeKey", "type", "eventCreatedOn"],
            e.Select(p => p.Key).ToArray());
        Assert.Equal("patchset-created", (string?)e["type"]);
        Assert.Equal("demo/service", (string?)e["project"]);
        Assert.Equal("refs/heads/master", (string?)e["refName"]);
        Assert.Equal(up.ChangeId, (string?)e["changeKey"]!["id"]);
        var change = e["change"]!.AsObject();
        Assert.Equal(["project", "branch", "id", "number", "subject", "owner", "url", "commitMessage", "createdOn", "status"],
            change.Select(p => p.Key).ToArray());
        Assert.Equal(1, (int)change["number"]!);
        Assert.Equal("master", (string?)change["branch"]);
        Assert.Equal("Add the service", (string?)change["subject"]);
        Assert.Equal($"{g.HttpUrl}/c/demo/service/+/1", (string?)change["url"]);
        Assert.Equal($"Add the service\n\nChange-Id: {up.ChangeId}\n", (string?)change["commitMessage"]);
        Assert.Equal("NEW", (string?)change["status"]);
        Assert.Equal("jane", (string?)change["owner"]!["username"]);
        var ps = e["patchSet"]!.AsObject();
        Assert.Equal(["number", "revision", "parents", "ref", "uploader", "createdOn", "author", "kind", "sizeInsertions", "sizeDeletions"],
            ps.Select(p => p.Key).ToArray());
        Assert.Equal(1, (int)ps["number"]!);
        Assert.Equal(up.Revision, (string?)ps["revision"]);
        Assert.Equal(up.Parent, (string?)ps["parents"]![0]);
        Assert.Equal("refs/changes/01/1/1", (string?)ps["ref"]);
        Assert.Equal("REWORK", (string?)ps["kind"]);
        Assert.Equal(4, (int)ps["sizeInsertions"]!);
        Assert.Equal(0, (int)ps["sizeDeletions"]!);
        Assert.InRange((long)e["eventCreatedOn"]!, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

        // A second patch set of the same change (amend): same change number, patch set 2.
        var up2 = await g.UploadPatchsetAsync("demo/service", "master", new Dictionary<string, string?> { ["src/app.py"] = "print('hi')\n" },
            "Add the service", up.ChangeId);
        var e2 = await stream.NextOfTypeAsync("patchset-created");
        Assert.Equal(1, up2.ChangeNumber);
        Assert.Equal("refs/changes/01/1/2", (string?)e2["patchSet"]!["ref"]);
        Assert.Equal(up.Parent, (string?)e2["patchSet"]!["parents"]![0]);
    }

    [Fact]
    public async Task Subscribe_filter_delivers_only_the_requested_types()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync("p");
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key, "gerrit stream-events -s comment-added --subscribe change-merged");

        var up = await g.UploadPatchsetAsync("p", "master", Files, "Change");
        await g.CommentAsync(up.ChangeNumber, "Looks good", approvals: new Dictionary<string, int> { ["Code-Review"] = 2 });
        await g.MergeAsync(up.ChangeNumber);

        var comment = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("comment-added", (string?)comment["type"]);
        Assert.Equal(["author", "approvals", "comment", "patchSet", "change", "project", "refName", "changeKey", "type", "eventCreatedOn"],
            comment.Select(p => p.Key).ToArray());
        Assert.Equal("Patch Set 1: Code-Review+2\n\nLooks good", (string?)comment["comment"]);
        var approval = comment["approvals"]![0]!;
        Assert.Equal("Code-Review", (string?)approval["type"]);
        Assert.Equal("2", (string?)approval["value"]);
        Assert.Equal("0", (string?)approval["oldValue"]);

        var merged = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("change-merged", (string?)merged["type"]);
        Assert.Equal(up.Revision, (string?)merged["newRev"]); // fast-forward
        Assert.Equal("MERGED", (string?)merged["change"]!["status"]);
        Assert.True(await stream.QuietForAsync(TimeSpan.FromMilliseconds(500))); // no ref-updated, no patchset-created
    }

    [Fact]
    public async Task Merge_emits_change_merged_then_ref_updated_of_the_branch()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync("p");
        var (key, _) = await g.CreateClientKeyAsync();
        var a = await g.UploadPatchsetAsync("p", "master", new Dictionary<string, string?> { ["a.txt"] = "a\n" }, "A");
        var b = await g.UploadPatchsetAsync("p", "master", new Dictionary<string, string?> { ["b.txt"] = "b\n" }, "B");
        await g.MergeAsync(a.ChangeNumber);
        using var stream = await StreamClient.OpenAsync(g, key, "gerrit stream-events -s change-merged -s ref-updated");

        var newRev = await g.MergeAsync(b.ChangeNumber); // branch moved: a real merge commit
        var merged = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        var refUpdated = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("change-merged", (string?)merged["type"]);
        Assert.Equal(newRev, (string?)merged["newRev"]);
        Assert.NotEqual(b.Revision, newRev);
        Assert.Equal("ref-updated", (string?)refUpdated["type"]);
        Assert.Equal(["submitter", "refUpdate", "type", "eventCreatedOn"], refUpdated.Select(p => p.Key).ToArray());
        Assert.Equal(a.Revision, (string?)refUpdated["refUpdate"]!["oldRev"]);
        Assert.Equal(newRev, (string?)refUpdated["refUpdate"]!["newRev"]);
        Assert.Equal("refs/heads/master", (string?)refUpdated["refUpdate"]!["refName"]);
        Assert.Equal("p", (string?)refUpdated["refUpdate"]!["project"]);
    }

    [Fact]
    public async Task Abandon_emits_change_abandoned()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync("p");
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key, "gerrit stream-events -s change-abandoned");
        var up = await g.UploadPatchsetAsync("p", "master", Files, "Change");
        await g.AbandonAsync(up.ChangeNumber, "not needed");
        var e = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("change-abandoned", (string?)e["type"]);
        Assert.Equal("not needed", (string?)e["reason"]);
        Assert.Equal("jane", (string?)e["abandoner"]!["username"]);
        Assert.Equal("ABANDONED", (string?)e["change"]!["status"]);
    }

    [Fact]
    public async Task Other_commands_are_rejected_with_gerrits_error()
    {
        await using var g = await Stand.StartAsync();
        var (key, _) = await g.CreateClientKeyAsync();
        using var client = StreamClient.Connect(g, key, g.KnownHostsLine);

        var ls = client.RunCommand("gerrit ls-projects");
        Assert.Equal(1, ls.ExitStatus);
        Assert.Equal("fatal: gerrit: ls-projects: not found\n", ls.Error);
        var sh = client.RunCommand("cat /etc/passwd");
        Assert.Equal(1, sh.ExitStatus);
        Assert.Equal("fatal: Gerrit Code Review: cat: not found\n", sh.Error);
        Assert.Equal("", sh.Result);
        var bad = client.RunCommand("gerrit stream-events --bogus");
        Assert.Equal(1, bad.ExitStatus);
        Assert.Equal("fatal: \"--bogus\" is not a valid option\n", bad.Error);
    }

    [Fact]
    public async Task Wrong_host_key_and_unknown_client_key_are_refused()
    {
        await using var g = await Stand.StartAsync();
        var (key, _) = await g.CreateClientKeyAsync();
        // A known_hosts line for another server's key.
        using var tmp = new TempDir();
        var other = Path.Combine(tmp.Path, "other");
        await Slipway.Embedded.ProcessRunner.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
        var otherLine = $"[127.0.0.1]:{g.SshPort} " + string.Join(' ', File.ReadAllText(other + ".pub").Split(' ').Take(2));
        Assert.Throws<SshConnectionException>(() => StreamClient.Connect(g, key, otherLine).Dispose());

        // A client key the server never authorized.
        Assert.Throws<SshAuthenticationException>(() => StreamClient.Connect(g, other, g.KnownHostsLine).Dispose());
        // The right pair works.
        using var ok = StreamClient.Connect(g, key, g.KnownHostsLine);
        Assert.True(ok.IsConnected);
    }

    [Fact]
    public async Task Cut_ssh_connections_ends_the_stream_and_a_client_can_reconnect()
    {
        await using var g = await Stand.StartAsync();
        await g.CreateProjectAsync("p");
        var (key, _) = await g.CreateClientKeyAsync();
        var sshd = g.SshdPid;
        using (var stream = await StreamClient.OpenAsync(g, key))
        {
            Assert.True(g.CutSshConnections() > 0);
            Assert.Null(await stream.NextLineAsync(TimeSpan.FromSeconds(10))); // the stream ended
        }
        Assert.Equal(sshd, g.SshdPid); // still listening
        Assert.Equal((0, 1L), (g.StreamConnections, g.StreamSubscriptions)); // the count of subscriptions ever made stays
        using var again = await StreamClient.OpenAsync(g, key, "gerrit stream-events -s patchset-created");
        Assert.Equal((1, 2L), (g.StreamConnections, g.StreamSubscriptions));
        var up = await g.UploadPatchsetAsync("p", "master", Files, "After the outage");
        Assert.Equal(up.EventJson, await again.NextLineAsync());
    }

    [Fact]
    public async Task Dropped_output_reaches_the_client()
    {
        await using var g = await Stand.StartAsync();
        var (key, _) = await g.CreateClientKeyAsync();
        using var stream = await StreamClient.OpenAsync(g, key, "gerrit stream-events -s patchset-created");
        g.EmitDroppedOutput();
        var e = JsonNode.Parse((await stream.NextLineAsync())!)!.AsObject();
        Assert.Equal("dropped-output", (string?)e["type"]);
        Assert.Equal(["type", "eventCreatedOn"], e.Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task Dispose_stops_sshd_and_removes_the_directory()
    {
        var g = await Stand.StartAsync();
        var pid = g.SshdPid!.Value;
        var dir = g.WorkDirectory;
        var (key, _) = await g.CreateClientKeyAsync();
        var stream = await StreamClient.OpenAsync(g, key);
        try
        {
            await g.DisposeAsync();
            await g.DisposeAsync(); // idempotent
            Assert.False(IsAlive(pid), "sshd still running");
            Assert.False(Directory.Exists(dir));
            Assert.False(await Slipway.Embedded.FreePort.IsListeningAsync(g.SshPort));
        }
        finally
        {
            stream.Dispose();
            await g.DisposeAsync();
        }

        static bool IsAlive(int pid)
        {
            try { return !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].StartsWith('Z'); }
            catch (IOException) { return false; }
        }
    }
}
