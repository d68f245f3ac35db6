using Slipway.Builder.Building;
using Slipway.BuildConfig;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Bad and hostile configs are refused with Blubber's exact message and nothing reaches the engine; failing steps
/// and the time limit end the build with a one-line reason; the engine is left with nothing of the build running.
/// </summary>
public sealed class ImageBuilderRefusalTests
{
    private static string Base => ImageBuildFixture.Base;

    public static TheoryData<string, string> RefusedConfigs() => new()
    {
        // Bad configs.
        { "version: v3\nvariants:\n  test: {}\n", "version: config version \"v3\" is unsupported (at version, line 1)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    colour: blue\n", "json: unknown field \"colour\" (at variants.test.colour, line 5)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    lives:\n      in: /\n", "in: \"/\" is not a valid absolute non-root path (at variants.test.lives.in, line 6)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    runs:\n      as: root\n", "as: \"root\" is not a valid user name (at variants.test.runs.as, line 6)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  prod:\n    includes: [nope]\n", "includes[0]: references an unknown variant \"nope\" (at variants.prod.includes, line 5)" },
        // Hostile configs.
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    copies:\n      - from: local\n        source: ../../etc/passwd\n", "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 6)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    copies:\n      - from: local\n        source: /etc/passwd\n", "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 6)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test:\n    entrypoint: [./x]\n    builder: {"{"}command: [make]{"}"}\n    runs: {"{"}environment: {"{"}\"A B\": x{"}"}{"}"}\n", "environment: contains invalid environment variable names (at variants.test.runs.environment, line 7)" },
        { AliasBomb(), "config too large: more than 100000 YAML nodes (after alias expansion) (line 2)" },
        { $"version: v4\nbase: {Base}\nvariants:\n  test: {"{"}{"}"}\n" + new string('#', 1_100_000) + "\n", ".pipeline/blubber.yaml: file is larger than 1048576 bytes" },
    };

    private static string AliasBomb()
    {
        var lines = new List<string> { "version: v4", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]" };
        for (var i = 1; i < 10; i++) lines.Add($"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]");
        lines.Add("variants:\n  test: {}");
        return string.Join('\n', lines) + "\n";
    }

    [Theory]
    [MemberData(nameof(RefusedConfigs))]
    public async Task Refused_configs_give_the_exact_message_and_build_nothing(string yaml, string message)
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?> { [".pipeline/blubber.yaml"] = yaml });

        var result = await f.BuildAsync(context, "test");

        Assert.False(result.Succeeded);
        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal(message, result.Reason);
        Assert.Null(result.LogPath);
        Assert.Empty(f.Lines);
        Assert.Empty(Directory.EnumerateFiles(f.LogDir));
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_policy_violation_is_refused_before_building()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = "version: v4\nbase: docker.io/library/debian:bookworm\nvariants:\n  production: {}\n",
        });
        var policy = Policy.Parse("enforcements:\n  - path: variants.production.base\n    rule: omitempty,startswith=127.0.0.1\n");

        var result = await f.BuildAsync(context, "production", policy: policy);

        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal("value: \"docker.io/library/debian:bookworm\", for \"variants.production.base\" violates policy rule \"omitempty,startswith=127.0.0.1\"", result.Reason);
        Assert.Empty(f.Lines);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_missing_config_or_variant_is_refused()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var empty = f.Context(new Dictionary<string, string?> { ["README"] = "no pipeline\n" });
        var missing = await f.BuildAsync(empty, "test");
        Assert.Equal(BuildFailureKind.Config, missing.Failure);
        Assert.Equal(".pipeline/blubber.yaml: no such file in the revision", missing.Reason);

        var context = f.Context(new Dictionary<string, string?> { [".pipeline/blubber.yaml"] = $"version: v4\nbase: {Base}\nvariants:\n  test: {"{"}{"}"}\n" });
        var unknown = await f.BuildAsync(context, "production");
        Assert.Equal(BuildFailureKind.Config, unknown.Failure);
        Assert.Equal("processing includes for variant 'production': There is no key 'production' in the dependency graph", unknown.Reason);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_failing_step_fails_the_build_with_the_step_error()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {Base}\nvariants:\n  test:\n    builder:\n      command: [sh, -c, \"echo about to fail {scope.Id} && exit 3\"]\n",
        });

        var result = await f.BuildAsync(context, "test");

        Assert.Equal(BuildFailureKind.BuildStep, result.Failure);
        // BuildKit names the failed step and its error; the tail is that step's own output.
        Assert.Matches(@"^step \[[^\]]+\] RUN sh ""-c"" ""echo about to fail " + scope.Id + @" && exit 3"" failed: .*exit code: 3$", result.Reason);
        Assert.Contains($"about to fail {scope.Id}", result.OutputTail);
        Assert.EndsWith("exit code: 3", result.OutputTail);
        Assert.Single(result.Steps, s => s.Error is not null);
        Assert.Contains($"about to fail {scope.Id}", await File.ReadAllTextAsync(result.LogPath!));
        Assert.Contains(f.Lines, l => l.Contains($"about to fail {scope.Id}", StringComparison.Ordinal));
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_build_past_its_time_limit_is_stopped_and_fails()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var marker = "slow-" + scope.Id;
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {Base}\nvariants:\n  test:\n    builder:\n      command: \"echo {marker} && sleep 600\"\n",
        });

        var started = DateTime.UtcNow;
        var result = await f.BuildAsync(context, "test", timeLimit: TimeSpan.FromSeconds(5));

        Assert.Equal(BuildFailureKind.TimedOut, result.Failure);
        Assert.True(result.TimedOut);
        Assert.Equal("build exceeded its time limit of 5s", result.Reason);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(60));
        Assert.Contains("build exceeded its time limit of 5s", result.OutputTail);
        Assert.Empty(await scope.LabelledImagesAsync());
        // BuildKit stopped the step: no process on the machine runs the command any more (BuildKit's steps are not
        // engine containers, so the process table is where they show).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var running = Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
                .Where(d => { try { return File.ReadAllText(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal); } catch (IOException) { return false; } })
                .ToList();
            if (running.Count == 0) break;
            Assert.True(DateTime.UtcNow < deadline, $"build step still running: {running[0]}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Build_steps_have_no_network_when_the_request_says_none()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {Base}\nvariants:\n  test:\n    builder:\n      command: [sh, -c, \"cat /sys/class/net/*/operstate > /dev/null; ls /sys/class/net > nics.txt # {scope.Id}\"]\n    entrypoint: [cat, nics.txt]\n",
        });

        var isolated = await f.BuildAsync(context, "test", network: "none");
        Assert.True(isolated.Succeeded, isolated.Reason);
        var (_, nics) = await scope.RunAsync(isolated.ImageId!);
        Assert.Equal("lo", nics.Trim());
    }
}
