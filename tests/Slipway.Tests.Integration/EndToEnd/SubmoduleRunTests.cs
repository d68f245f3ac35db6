using Slipway.Contracts;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's <c>fetch.submodules</c> through the six services: a patch set pushed with `git push` whose tree holds a
/// submodule of another project of the same Gerrit (a relative URL, as Gerrit projects write them) builds with the
/// submodule's files; one whose <c>.gitmodules</c> points outside fails only the pipelines that fetch submodules, naming
/// it, while a pipeline with <c>fetch: {submodules: false}</c> runs on the tree alone. The build context holds the checkout's
/// <c>.git</c> as PipelineLib's did (the revision at HEAD, shallow), with the project's tags only where the pipeline
/// asks for them (<c>fetch.tags</c>).
/// </summary>
public sealed class SubmoduleRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    private static string Blubber(string baseImage) => $$"""
        version: v4
        base: {{baseImage}}
        variants:
          with-lib:
            copies: [local]
            entrypoint: [/bin/sh, -c, 'set -x; cat modules/lib/lib.txt && test "$(cat .git/HEAD)" = "$0" && test -s .git/index && test -d .git/objects && test ! -e .git/refs/tags/v0.9']
          tree-only:
            copies: [local]
            entrypoint: [/bin/sh, -c, 'set -x; test -d modules/lib && test -z "$(ls -A modules/lib)" && cat app.txt && test "$(cat .git/refs/tags/v0.9)" = "$0"']
        """;

    private static string Config(string taggedCommit) => $$"""
        pipelines:
          with:
            blubberfile: blubber.yaml
            stages:
              - name: check
                build: with-lib
                run:
                  arguments: ['${setup.commit}']
          without:
            blubberfile: blubber.yaml
            fetch:
              submodules: false
              tags: true
            stages:
              - name: check
                build: tree-only
                run:
                  arguments: ['{{taggedCommit}}']
        """;

    private static string Modules(params (string Path, string Url)[] entries) =>
        string.Concat(entries.Select(e => $"[submodule \"{e.Path}\"]\n\tpath = {e.Path}\n\turl = {e.Url}\n"));

    [Fact]
    public async Task A_submodule_of_the_same_gerrit_is_built_in_and_one_from_elsewhere_fails_only_the_pipelines_that_fetch_it()
    {
        await using var env = await PipelineEnvironment.StartAsync("submodules");
        var gerrit = env.Gerrit.Gerrit;
        var source = Directory.CreateTempSubdirectory("slipway-submodules-").FullName;
        try
        {
            // The library: a sibling project of the same Gerrit, with one merged file.
            var libName = "lib-" + Guid.NewGuid().ToString("N")[..8];
            var lib = env.Project[..(env.Project.LastIndexOf('/') + 1)] + libName;
            await gerrit.CreateProjectAsync(lib);
            var libChange = await gerrit.UploadPatchsetAsync(lib, "master", new Dictionary<string, string?> { ["lib.txt"] = "hello from the library\n" }, "Library");
            var libCommit = await gerrit.MergeAsync(libChange.ChangeNumber);

            // A release tag on the branch, pushed by a maintainer before the change: only the pipeline with fetch.tags sees it.
            gerrit.AllowDirectPush(gerrit.Developer, env.Project);
            var tagged = await GerritPush.TagBranchAsync(gerrit, env.Project, "master", "v0.9");

            GerritPush.WriteFiles(source, new Dictionary<string, string?>
            {
                [".pipeline/blubber.yaml"] = Blubber(env.BaseImage), [".pipeline/config.yaml"] = Config(tagged), ["app.txt"] = "the app alone\n",
                [".gitmodules"] = Modules(("modules/lib", $"../{libName}")),
            });
            var same = await GerritPush.PatchSetAsync(gerrit, env.Project, source, "With a library submodule",
                gitlinks: new Dictionary<string, string> { ["modules/lib"] = libCommit });
            var with = await PushedPipelineRuns.FinishedAsync(env, same, "with", Timeout);
            Assert.True(with.Outcome == RunOutcome.Succeeded, with.Reason + "\n" + string.Join("\n", env.PipelineEvents.Events
                .Where(e => e.Type == EventTypes.NameOf<TestFailed>()).Select(e => e.DataAs<TestFailed>().OutputTail))); // found the submodule's file, and .git at the revision
            var without = await PushedPipelineRuns.FinishedAsync(env, same, "without", Timeout);
            Assert.True(without.Outcome == RunOutcome.Succeeded, without.Reason); // and the tree-only pipeline found its directory empty, and the tag

            // A second change adds a submodule from an address inside the operator's network.
            File.WriteAllText(Path.Combine(source, ".gitmodules"), Modules(("modules/lib", $"../{libName}"), ("modules/evil", "http://127.0.0.1:9/internal")));
            var outside = await GerritPush.PatchSetAsync(gerrit, env.Project, source, "With a submodule from elsewhere",
                gitlinks: new Dictionary<string, string> { ["modules/lib"] = libCommit, ["modules/evil"] = libCommit });
            var refused = await PushedPipelineRuns.FinishedAsync(env, outside, "with", Timeout);
            Assert.Equal(RunOutcome.Failed, refused.Outcome);
            Assert.Contains("fetch.submodules: the revision is refused: modules/evil: is a submodule that is not fetched: " +
                "it comes from http://127.0.0.1:9/internal, which is not allowed", refused.Reason);
            var refusedRun = PushedPipelineRuns.RunIdOf(env, outside, "with");
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.RunId == refusedRun && e.Type == EventTypes.NameOf<BuildStarted>());
            var alone = await PushedPipelineRuns.FinishedAsync(env, outside, "without", Timeout);
            Assert.True(alone.Outcome == RunOutcome.Succeeded, alone.Reason);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            try { Directory.Delete(source, recursive: true); } catch (IOException) { }
        }
    }
}
