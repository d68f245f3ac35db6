using Slipway.Embedded;
using Slipway.Tests.Integration.Support;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>The <see cref="GerritPush"/> helper against the stand-in alone (no Kafka): what is on disk is what the patch set holds.</summary>
public sealed class GerritPushTests
{
    [Fact]
    public async Task A_directory_is_pushed_as_it_is_with_links_modes_and_ignored_files_then_as_patch_set_2()
    {
        await using var gerrit = await StandIn.StartAsync();
        await gerrit.CreateProjectAsync("hostile/repo");
        var source = Directory.CreateTempSubdirectory("slipway-push-src-").FullName;
        var check = Directory.CreateTempSubdirectory("slipway-push-check-").FullName;
        try
        {
            GerritPush.WriteFiles(source, new Dictionary<string, string?> { ["bin/run"] = "#!/bin/sh\n", [".gitignore"] = "secret.txt\n", ["secret.txt"] = "s\n" });
            File.SetUnixFileMode(Path.Combine(source, "bin/run"), (UnixFileMode)0b111_101_101);
            File.CreateSymbolicLink(Path.Combine(source, ".dockerignore"), "/etc/passwd");
            File.CreateSymbolicLink(Path.Combine(source, "up"), "../../..");

            var first = await GerritPush.PatchSetAsync(gerrit, "hostile/repo", source, "Links out of the tree");
            Assert.Equal((1, 1, "refs/changes/01/1/1"), (first.ChangeNumber, first.PatchSet, first.Ref));
            Assert.Matches("^I[0-9a-f]{40}$", first.ChangeId);

            await Git(check, "init", "-q");
            await Git(check, "fetch", "-q", $"{gerrit.HttpUrl}/hostile/repo", first.Ref);
            Assert.Equal(first.Revision, (await Git(check, "rev-parse", "FETCH_HEAD")).Trim());
            var tree = (await Git(check, "ls-tree", "-r", "FETCH_HEAD")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')[0] + " " + l.Split('\t')[1]);
            Assert.Equal(["120000 .dockerignore", "100644 .gitignore", "100755 bin/run", "100644 secret.txt", "120000 up"], tree);
            Assert.Equal("/etc/passwd", (await Git(check, "cat-file", "-p", "FETCH_HEAD:.dockerignore")).TrimEnd('\n'));
            Assert.Equal($"Links out of the tree\n\nChange-Id: {first.ChangeId}", (await Git(check, "log", "-1", "--format=%B", "FETCH_HEAD")).TrimEnd('\n'));

            // Same Change-Id, a file removed: patch set 2 of change 1, whose tree no longer has it.
            File.Delete(Path.Combine(source, "secret.txt"));
            var second = await GerritPush.PatchSetAsync(gerrit, "hostile/repo", source, "Links out of the tree", first.ChangeId);
            Assert.Equal((1, 2), (second.ChangeNumber, second.PatchSet));
            await Git(check, "fetch", "-q", $"{gerrit.HttpUrl}/hostile/repo", second.Ref);
            Assert.DoesNotContain("secret.txt", await Git(check, "ls-tree", "-r", "--name-only", "FETCH_HEAD"));

            // A refused push says why, in Gerrit's words: this change is closed now.
            await gerrit.AbandonAsync(1);
            File.WriteAllText(Path.Combine(source, "more.txt"), "more\n");
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                GerritPush.PatchSetAsync(gerrit, "hostile/repo", source, "Links out of the tree", first.ChangeId));
            Assert.Contains($"(change {gerrit.HttpUrl}/c/hostile/repo/+/1 closed)", refused.Message);
        }
        finally
        {
            foreach (var dir in new[] { source, check })
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> Git(string dir, params string[] args)
    {
        var r = await ProcessRunner.RunAsync("git", ["-C", dir, .. args], environment: new Dictionary<string, string>
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_TERMINAL_PROMPT"] = "0",
        });
        Assert.True(r.Succeeded, $"git {string.Join(' ', args)}: {r.StdErr}");
        return r.StdOut;
    }
}
