using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Slipway.Builder.Building;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Blubber's <c>run-variant</c> on a variant without its own <c>entrypoint</c> runs the entry point the variant inherits
/// from its base image: the builder reads the base image's config from the engine (under the image policy) and the
/// build runs that entry point, with <c>entrypoint-args</c>, as its last step. Real engine, real BuildKit.
/// </summary>
public sealed class InheritedEntrypointBuildTests
{
    private static string Registry => ImageBuildFixture.Base[..ImageBuildFixture.Base.IndexOf('/')];

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // only in the registry: the builder pulls it (with the registry's credentials) to read its config
    public async Task Run_variant_without_an_entrypoint_runs_the_one_its_base_image_has(bool onlyInRegistry)
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        // A base image in the allowed registry's name space, with an ENTRYPOINT and an environment of its own.
        var baseTag = $"{Registry}/slipway-test-entry/base-{scope.Id}:t";
        var tag = scope.Tag("inherited");
        try
        {
            await BuildBaseAsync(scope, baseTag, $"""
                FROM {ImageBuildFixture.Base}
                ENV GREETING=hello-{scope.Id}
                ENTRYPOINT ["/bin/sh", "-c", "echo \"inherited entrypoint ran: $GREETING $0 $1 arch=$TARGETARCH\" && echo \"$GREETING $1\" > /tmp/inherited-ran", "entry"]
                """);
            if (onlyInRegistry) await PushAndRemoveLocalAsync(scope, baseTag);
            var context = f.Context(new Dictionary<string, string?>
            {
                [".pipeline/blubber.yaml"] = $"version: v4\nbase: {baseTag}\nvariants:\n  test:\n    copies: [local]\n",
                ["app.txt"] = "app\n",
            });

            var result = await f.Builder.BuildAsync(new ImageBuildRequest
            {
                ContextDir = context,
                Variant = "test",
                Tag = tag,
                Labels = scope.Labels,
                TimeLimit = TimeSpan.FromMinutes(5),
                RunVariant = true,
                EntrypointArgs = ["arg-1"],
            }, line =>
            {
                lock (f.Lines) f.Lines.Add(line);
                scope.TrackOutput(line);
                return Task.CompletedTask;
            }, CancellationToken.None);

            Assert.True(result.Succeeded, $"build failed: {result.Reason}\n{result.OutputTail}\n{result.Dockerfile}");
            // The last step is the inherited entry point with the args, in exec form: the Dockerfile names it, the image keeps its own.
            Assert.Contains($"RUN [\"/bin/sh\", \"-c\", \"exec \\\"$@\\\"\", ", result.Dockerfile);
            Assert.Contains("\"/bin/sh\", \"-c\", \"echo \\\"inherited entrypoint ran: $GREETING $0 $1 arch=$TARGETARCH\\\" && echo \\\"$GREETING $1\\\" > /tmp/inherited-ran\", \"entry\", \"arg-1\"]",
                result.Dockerfile);
            Assert.DoesNotContain("\nENTRYPOINT", result.Dockerfile);
            var log = await File.ReadAllTextAsync(result.LogPath!);
            Assert.Contains($"# Read the config of base image {baseTag} (its entry point and environment, as Blubber does)", log);
            // Blubber's build steps see BuildKit's platform variables: the stage declares them, the frontend fills them.
            var arch = (await scope.Docker.Images.InspectImageAsync(ImageBuildFixture.Base)).Architecture;
            Assert.Contains(f.StepOutput(), l => l.EndsWith($"inherited entrypoint ran: hello-{scope.Id} entry arg-1 arch={arch}", StringComparison.Ordinal));
            // What the entry point wrote during the build is part of the image.
            var (exit, output) = await scope.RunAsync(tag, entrypoint: ["cat", "/tmp/inherited-ran"]);
            Assert.Equal(0, exit);
            Assert.Equal($"hello-{scope.Id} arg-1\n", output);
        }
        finally
        {
            // The built image first: the base cannot go while an image is built on it.
            foreach (var image in new[] { tag, baseTag })
                try { await scope.Docker.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true }); }
                catch (DockerApiException) { }
        }
    }

    [Fact]
    public async Task The_base_image_of_a_refused_registry_is_never_read()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var image = $"registry.invalid/slipway-test-entry/base-{scope.Id}:t";
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"version: v4\nbase: {image}\nvariants:\n  test: {{}}\n",
        });

        var result = await f.Builder.BuildAsync(new ImageBuildRequest
        {
            ContextDir = context, Variant = "test", Tag = scope.Tag("refused"), Labels = scope.Labels, RunVariant = true,
        }, null, CancellationToken.None);

        Assert.Equal(BuildFailureKind.Config, result.Failure);
        Assert.Equal($"image \"{image}\" comes from registry \"registry.invalid\", which is not allowed (allowed registries: {Registry}) (at variants.test.base)",
            result.Reason);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => scope.Docker.Images.InspectImageAsync(image));
    }

    private static async Task PushAndRemoveLocalAsync(DockerTestScope scope, string tag)
    {
        var registry = BuilderTestEnvironment.Registry;
        var colon = tag.LastIndexOf(':');
        var errors = new Errors();
        await scope.Docker.Images.PushImageAsync(tag[..colon], new ImagePushParameters { Tag = tag[(colon + 1)..] },
            new AuthConfig { ServerAddress = Registry, Username = registry.Username, Password = registry.Password }, errors, CancellationToken.None);
        if (errors.Messages.Count > 0) throw new InvalidOperationException($"pushing {tag} failed: {string.Join("; ", errors.Messages)}");
        await scope.Docker.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true });
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => scope.Docker.Images.InspectImageAsync(tag));
    }

    private static async Task BuildBaseAsync(DockerTestScope scope, string tag, string dockerfile)
    {
        using var context = new MemoryStream();
        await using (var tar = new TarWriter(context, TarEntryFormat.Pax, leaveOpen: true))
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "Dockerfile")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            });
        context.Position = 0;
        var errors = new Errors();
        await scope.Docker.Images.BuildImageFromDockerfileAsync(
            new ImageBuildParameters { Tags = [tag], Labels = new Dictionary<string, string>(scope.Labels), Remove = true, ForceRemove = true },
            context, null, null, errors, CancellationToken.None);
        if (errors.Messages.Count > 0) throw new InvalidOperationException($"building {tag} failed: {string.Join("; ", errors.Messages)}");
    }

    private sealed class Errors : IProgress<JSONMessage>
    {
        public List<string> Messages { get; } = [];

        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } error) lock (Messages) Messages.Add(error);
        }
    }
}
