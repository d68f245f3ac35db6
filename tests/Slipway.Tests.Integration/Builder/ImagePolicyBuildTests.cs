using Slipway.Builder.Building;
using Slipway.BuildConfig;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// The default image policy as the real image builder enforces it: every image a build pulls comes from the
/// configured registry, matched by exact host and port — an unlisted registry, a look-alike host, another port, a
/// <c>copies</c> image are refused before anything reaches the engine. And the registry credentials the builder
/// pulls with never reach the build: not its steps' environment, not the image's config or history.
/// </summary>
public sealed class ImagePolicyBuildTests
{
    private static string Base => ImageBuildFixture.Base;

    // 127.0.0.1:PORT of the local registry, and the rest of the base image's name.
    private static string Registry => Base[..Base.IndexOf('/')];
    private static string Repository => Base[(Base.IndexOf('/') + 1)..];
    private static int Port => int.Parse(Registry.Split(':')[1]);

    public static TheoryData<string, string> ForeignBases() => new()
    {
        { "docker.io/library/debian:bookworm", "docker.io" },
        { "debian:bookworm", "docker.io" },
        { $"127.0.0.1:{Port + 1}/{Repository}", $"127.0.0.1:{Port + 1}" },            // another port of the same host
        { $"localhost:{Port}/{Repository}", $"localhost:{Port}" },                   // the same registry under another name
        { $"127.0.0.1.evil.example:{Port}/{Repository}", $"127.0.0.1.evil.example:{Port}" }, // a look-alike host
    };

    [Theory]
    [MemberData(nameof(ForeignBases))]
    public async Task A_base_image_from_another_registry_is_refused_before_building(string image, string registry)
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {image}\nvariants:\n  production: {{}}\n",
        });

        var result = await f.BuildAsync(context, "production");

        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal($"image \"{image}\" comes from registry \"{registry}\", which is not allowed (allowed registries: {Registry}) (at variants.production.base)",
            result.Reason);
        Assert.Empty(f.Lines);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task An_image_named_in_copies_from_is_checked_too()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  production:
                    copies:
                      - from: docker.io/library/busybox:1
                        source: /bin/busybox
                        destination: busybox
                """,
        });

        var result = await f.BuildAsync(context, "production");

        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal($"image \"docker.io/library/busybox:1\" comes from registry \"docker.io\", which is not allowed (allowed registries: {Registry}) (at variants.production.copies)",
            result.Reason);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task A_policy_rule_on_variants_star_applies_to_every_variant()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {Base}\nvariants:\n  test: {{}}\n  debug:\n    runs: {{ insecurely: true }}\n",
        });
        var policy = Policy.Parse($"enforcements:\n  - path: variants.*.runs.insecurely\n    rule: isfalse\n  - path: variants.*.base\n    rule: omitempty,registry={Registry}\n");

        var result = await f.BuildAsync(context, "test", policy: policy);

        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal("value: \"true\", for \"variants.debug.runs.insecurely\" violates policy rule \"isfalse\"", result.Reason);
        Assert.Empty(await scope.LabelledImagesAsync());
    }

    [Fact]
    public async Task Registry_credentials_never_reach_the_build_steps_or_the_image()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var password = BuilderTestEnvironment.Registry.Password!;
        var username = BuilderTestEnvironment.Registry.Username!;
        var context = f.Context(new Dictionary<string, string?>
        {
            // The build step records everything it can see of its environment and of the engine's files.
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  test:
                    builder:
                      command: [sh, -c, "env > build-env.txt; cat /proc/1/environ >> build-env.txt 2>/dev/null; ls -a / >> build-env.txt; cat /root/.docker/config.json >> build-env.txt 2>/dev/null; true"]
                    entrypoint: [cat, build-env.txt]
                """,
        });

        var result = await f.BuildAsync(context, "test");

        Assert.True(result.Succeeded, result.Reason);
        var (_, seen) = await scope.RunAsync(result.ImageId!);
        Assert.Contains("PATH=", seen); // the step did record its environment
        Assert.DoesNotContain(password, seen);
        Assert.DoesNotContain($"{username}:", seen);
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageId);
        Assert.DoesNotContain(image.Config.Env ?? [], e => e.Contains(password, StringComparison.Ordinal));
        var history = await scope.Docker.Images.GetImageHistoryAsync(result.ImageId);
        Assert.DoesNotContain(history, h => (h.CreatedBy ?? "").Contains(password, StringComparison.Ordinal));
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(result.LogPath!));
        Assert.DoesNotContain(f.Lines, l => l.Contains(password, StringComparison.Ordinal));
    }
}
