using Slipway.Builder.Building;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Every Blubber feature group built into a real image by the real engine (classic builder) from the local base
/// image, then the image inspected: config (user, entry point, environment, labels) and the files with owners.
/// </summary>
public sealed class ImageBuilderFeatureTests
{
    private static string Base => ImageBuildFixture.Base;

    private static void AssertBuilt(ImageBuildResult result)
    {
        Assert.True(result.Succeeded, $"build failed: {result.Reason}\n{result.OutputTail}\n{result.Dockerfile}");
        Assert.Matches("^sha256:[0-9a-f]{64}$", result.ImageId);
        Assert.True(result.SizeBytes > 0);
        Assert.True(File.Exists(result.LogPath));
    }

    /// <summary>Owner and path of every file under a directory, as the image holds them.</summary>
    private static async Task<string[]> FilesAsync(DockerTestScope scope, string image, string dir)
    {
        var (exit, output) = await scope.RunAsync(image, ["find", dir, "-printf", "%u:%g %p\\n"], user: "0");
        Assert.True(exit == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Files_are_owned_by_the_lives_user_and_the_image_runs_as_the_runs_user()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  defaults:
                    copies: [local]
                  custom:
                    lives: {"{"} as: owner, uid: 1234, gid: 1235, in: /app {"}"}
                    runs: {"{"} as: service, uid: 4321, gid: 4322 {"}"}
                    copies: [local]
                """,
            ["hello.sh"] = "#!/bin/sh\necho hello\n",
            ["lib/util.txt"] = "util\n",
        });

        var defaults = await f.BuildAsync(context, "defaults");
        AssertBuilt(defaults);
        var image = await scope.Docker.Images.InspectImageAsync(defaults.ImageId);
        Assert.Equal("900", image.Config.User);
        Assert.Equal("/srv/app", image.Config.WorkingDir);
        Assert.Contains("HOME=/home/runuser", image.Config.Env);
        Assert.Equal(
            ["somebody:somebody /srv/app", "somebody:somebody /srv/app/.pipeline", "somebody:somebody /srv/app/.pipeline/blubber.yaml",
             "somebody:somebody /srv/app/hello.sh", "somebody:somebody /srv/app/lib", "somebody:somebody /srv/app/lib/util.txt"],
            await FilesAsync(scope, defaults.ImageId!, "/srv/app"));
        Assert.Equal(["somebody:somebody /opt/lib"], await FilesAsync(scope, defaults.ImageId!, "/opt/lib"));
        var (_, ids) = await scope.RunAsync(defaults.ImageId!, ["id"]);
        Assert.Equal("uid=900(runuser) gid=900(runuser) groups=900(runuser)", ids.Trim());

        var custom = await f.BuildAsync(context, "custom");
        AssertBuilt(custom);
        var customImage = await scope.Docker.Images.InspectImageAsync(custom.ImageId);
        Assert.Equal("4321", customImage.Config.User);
        Assert.Equal("/app", customImage.Config.WorkingDir);
        Assert.Contains("owner:owner /app/hello.sh", await FilesAsync(scope, custom.ImageId!, "/app"));
        var (_, customIds) = await scope.RunAsync(custom.ImageId!, ["id"]);
        Assert.Equal("uid=4321(service) gid=4322(service) groups=4322(service)", customIds.Trim());
        // Neither user is root, and the app files are not writable by the runtime user.
        var (writeExit, _) = await scope.RunAsync(custom.ImageId!, ["sh", "-c", "echo x >> /app/hello.sh"]);
        Assert.NotEqual(0, writeExit);
    }
}
