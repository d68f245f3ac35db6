using Slipway.Builder.Building;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Reuse of an image built from the same inputs (<see cref="BuildInputKey"/>), real engine: a second build of identical
/// inputs for another run returns the first run's image without reaching BuildKit; any change of an input, another
/// project, a build that asks not to reuse (a recheck), or labels that claim another build's key, build anew.
/// </summary>
public sealed class BuildReuseTests
{
    private static string Blubber(string greeting) => $"""
        version: v4
        base: {ImageBuildFixture.Base}
        variants:
          test:
            builder:
              command: [sh, -c, "echo BUILD-MARKER-{greeting} && cat src.txt > built.txt"]
              requirements: [src.txt]
            copies: [local]
            entrypoint: [cat, built.txt]
        """;

    private static async Task<(ImageBuildResult Result, List<string> Lines)> BuildAsync(ImageBuildFixture f, string context, string project,
        string run, bool reuse = true, IReadOnlyDictionary<string, string>? extraLabels = null)
    {
        var labels = new Dictionary<string, string>(f.Scope.Labels) { ["slipway.run"] = run };
        foreach (var (k, v) in extraLabels ?? new Dictionary<string, string>()) labels[k] = v;
        var lines = new List<string>();
        var result = await f.Builder.BuildAsync(new ImageBuildRequest
        {
            ContextDir = context, Variant = "test", Project = project, Tag = f.Scope.Tag(run), Labels = labels,
            TimeLimit = TimeSpan.FromMinutes(5), ReuseIdenticalImage = reuse,
        }, line =>
        {
            lock (lines) lines.Add(line);
            return Task.CompletedTask;
        }, CancellationToken.None);
        Assert.True(result.Succeeded, $"build failed: {result.Reason}\n{result.OutputTail}");
        return (result, lines);
    }

    private static bool RanBuildKit(List<string> lines) => lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^#\d+ "));

    [Fact]
    public async Task The_same_inputs_reuse_the_first_runs_image_and_any_changed_input_builds_anew()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var project = $"team/reuse-{scope.Id}";
        // The marker carries the scope id, so the engine's layer cache from other tests cannot hide the first build.
        var files = new Dictionary<string, string?> { [".pipeline/blubber.yaml"] = Blubber(scope.Id), ["src.txt"] = "one\n" };
        var context = f.Context(files);

        var (first, firstLines) = await BuildAsync(f, context, project, "run-1");
        Assert.Null(first.ReusedFromRun);
        Assert.True(RanBuildKit(firstLines));
        Assert.Contains(firstLines, l => l.EndsWith($"BUILD-MARKER-{scope.Id}", StringComparison.Ordinal));

        // Run 2, a fresh checkout of the same content: the very same image, tagged for run 2, BuildKit never called.
        var (second, secondLines) = await BuildAsync(f, f.Context(files), project, "run-2");
        Assert.Equal(first.ImageId, second.ImageId);
        Assert.Equal("run-1", second.ReusedFromRun);
        Assert.Equal(scope.Tag("run-2"), second.ImageRef);
        Assert.False(RanBuildKit(secondLines), string.Join('\n', secondLines));
        Assert.Contains($"reused image {first.ImageId} built by run run-1", string.Join('\n', secondLines));
        Assert.Equal(first.ImageId, (await scope.Docker.Images.InspectImageAsync(scope.Tag("run-2"))).ID);
        var (exit, output) = await scope.RunAsync(second.ImageRef!);
        Assert.Equal((0L, "one\n"), (exit, output));

        // A changed context file: built anew, and the new content is in the image.
        var changed = await BuildAsync(f, f.Context(new Dictionary<string, string?>(files) { ["src.txt"] = "two\n" }), project, "run-3");
        Assert.Null(changed.Result.ReusedFromRun);
        Assert.NotEqual(first.ImageId, changed.Result.ImageId);
        Assert.True(RanBuildKit(changed.Lines));
        Assert.Equal((0L, "two\n"), await scope.RunAsync(changed.Result.ImageRef!));

        // A changed build config (the compiled Dockerfile): built anew, its step runs.
        var reconfigured = await BuildAsync(f, f.Context(new Dictionary<string, string?>(files) { [".pipeline/blubber.yaml"] = Blubber(scope.Id + "-b") }), project, "run-4");
        Assert.Null(reconfigured.Result.ReusedFromRun);
        Assert.NotEqual(first.ImageId, reconfigured.Result.ImageId);
        Assert.Contains(reconfigured.Lines, l => l.EndsWith($"BUILD-MARKER-{scope.Id}-b", StringComparison.Ordinal));

        // A changed file mode: built anew.
        var modeContext = f.Context(files);
        File.SetUnixFileMode(Path.Combine(modeContext, "src.txt"), (UnixFileMode)0b111_101_101);
        var moded = await BuildAsync(f, modeContext, project, "run-5");
        Assert.Null(moded.Result.ReusedFromRun);

        // The same inputs in another project: never reused across projects.
        var other = await BuildAsync(f, f.Context(files), project + "-other", "run-6");
        Assert.Null(other.Result.ReusedFromRun);
        Assert.NotEqual(first.ImageId, other.Result.ImageId);

        // Asked not to reuse (a recheck): built anew although the inputs are the same.
        var recheck = await BuildAsync(f, f.Context(files), project, "run-7", reuse: false);
        Assert.Null(recheck.Result.ReusedFromRun);
        Assert.NotEqual(first.ImageId, recheck.Result.ImageId);
        Assert.True(RanBuildKit(recheck.Lines));
    }

    [Fact]
    public async Task A_build_that_claims_another_builds_key_does_not_get_it_so_it_cannot_poison_that_build()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var project = $"team/poison-{scope.Id}";
        var files = new Dictionary<string, string?> { [".pipeline/blubber.yaml"] = Blubber(scope.Id), ["src.txt"] = "good\n" };

        var (good, _) = await BuildAsync(f, f.Context(files), project, "run-good");
        var key = (await scope.Docker.Images.InspectImageAsync(good.ImageId)).Config.Labels[BuildInputKey.Label];
        Assert.Matches("^sha256:[0-9a-f]{64}$", key);

        // Other content in the same project, its labels claiming the good build's key (and the project's label another project).
        var (hostile, _) = await BuildAsync(f, f.Context(new Dictionary<string, string?>(files) { ["src.txt"] = "evil\n" }), project, "run-hostile",
            extraLabels: new Dictionary<string, string> { [BuildInputKey.Label] = key, ["slipway.project"] = "team/elsewhere" });
        var hostileLabels = (await scope.Docker.Images.InspectImageAsync(hostile.ImageId)).Config.Labels;
        Assert.NotEqual(key, hostileLabels[BuildInputKey.Label]);
        Assert.Equal(project, hostileLabels["slipway.project"]);

        // The good inputs again, after the hostile build: the good image, never the hostile one.
        var (again, _) = await BuildAsync(f, f.Context(files), project, "run-again");
        Assert.Equal(good.ImageId, again.ImageId);
        Assert.Equal("run-good", again.ReusedFromRun);
        Assert.Equal((0L, "good\n"), await scope.RunAsync(again.ImageRef!));
    }
}
