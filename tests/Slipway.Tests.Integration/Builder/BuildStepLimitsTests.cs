using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Building;
using Slipway.Builder.Building.BuildKit;
using Slipway.Tests.Integration.Publisher;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// dockerd's BuildKit ignores a build's own memory and CPU parameters, so the builder bounds the cgroup every build step
/// runs under: a real build's step runs below <c>/docker/buildkit</c>, and that cgroup holds the configured limits
/// for all builds together (the kernel counts a child's memory and processes against its parent). The test uses the
/// default limits, the values every builder service of the suite writes, so builds running beside it are not disturbed.
/// </summary>
public sealed class BuildStepLimitsTests
{
    [Fact]
    public async Task A_build_step_runs_under_the_cgroup_that_holds_the_configured_limits_of_all_builds()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var defaults = new BuilderOptions();
        var options = new BuilderOptions
        {
            LogDir = f.Options.LogDir,
            RegistryAuth = f.Options.RegistryAuth,
            AllowedBaseRegistries = f.Options.AllowedBaseRegistries,
        };
        var cgroup = new BuildStepCgroup(options, NullLogger<BuildStepCgroup>.Instance);
        var builder = new ImageBuilder(scope.Docker, options, NullLogger<ImageBuilder>.Instance, f.Egress, cgroup);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {ImageBuildFixture.Base}\nvariants:\n  test:\n    builder:\n      command: [sh, -c, \"cat /proc/self/cgroup > cgroup.txt # {scope.Id}\"]\n    entrypoint: [cat, cgroup.txt]\n",
        });

        var result = await builder.BuildAsync(new ImageBuildRequest
        {
            ContextDir = context, Variant = "test", Tag = scope.Tag("limits"), Labels = scope.Labels,
            TimeLimit = TimeSpan.FromMinutes(5), Network = "none",
        }, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Reason);
        var (_, cgroups) = await scope.RunAsync(result.ImageId!);
        var memoryLine = cgroups.Split('\n').Single(l => l.Split(':') is [_, var controllers, _] && controllers.Split(',').Contains("memory"));
        Assert.StartsWith("/docker/buildkit/", memoryLine.Split(':')[2]);
        Assert.Equal(defaults.MemoryBytes * defaults.MaxConcurrentBuilds,
            long.Parse(File.ReadAllText("/sys/fs/cgroup/memory/docker/buildkit/memory.limit_in_bytes")));
        Assert.Equal((defaults.PidsLimit * defaults.MaxConcurrentBuilds).ToString(),
            File.ReadAllText("/sys/fs/cgroup/pids/docker/buildkit/pids.max").Trim());
        Assert.Equal((long)(defaults.Cpus * defaults.MaxConcurrentBuilds * 100_000),
            long.Parse(File.ReadAllText("/sys/fs/cgroup/cpu/docker/buildkit/cpu.cfs_quota_us")));
    }

    [Fact]
    public void Where_the_cgroup_tree_cannot_be_written_the_builder_builds_unbounded_and_says_so_once()
    {
        var options = new BuilderOptions { CgroupRoot = Path.Combine(Path.GetTempPath(), "slipway-no-cgroup-" + Guid.NewGuid().ToString("N")) };
        var logger = new ListLogger<BuildStepCgroup>();
        var cgroup = new BuildStepCgroup(options, logger);

        Assert.False(cgroup.Apply());
        Assert.False(cgroup.Apply());
        var line = Assert.Single(logger.Lines);
        Assert.Contains("Build steps run without memory, process and CPU limits", line);
        Assert.False(Directory.Exists(options.CgroupRoot));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("docker/../../x")]
    public void A_cgroup_path_that_climbs_out_is_refused_by_validation(string path)
    {
        var errors = new BuilderOptions { StepsCgroup = path, GitUrl = "http://127.0.0.1/", AllowedBaseRegistries = ["127.0.0.1:5000"] }.Validate().ToList();
        Assert.Contains($"Builder:StepsCgroup '{path}' is invalid (a path under the cgroup root, without ..)", errors);
    }
}
