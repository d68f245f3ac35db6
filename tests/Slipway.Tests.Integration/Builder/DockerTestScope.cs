using System.Text;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// One test's Docker footprint: a unique label on every image and container it makes, and cleanup of exactly
/// those (plus the untagged intermediate images its builds left, found from the build output) — never a global prune.
/// </summary>
public sealed partial class DockerTestScope : IAsyncDisposable
{
    public const string LabelKey = "slipway.test";

    private readonly List<string> _intermediates = [];

    public DockerTestScope()
    {
        Id = Guid.NewGuid().ToString("N")[..12];
        Docker = BuilderTestEnvironment.CreateDockerClient();
    }

    public string Id { get; }
    public DockerClient Docker { get; }

    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string> { [LabelKey] = Id };

    /// <summary>A local tag unique to this test.</summary>
    public string Tag(string name = "img") => $"slipway-test-build/{name}-{Id}:t";

    /// <summary>Remembers the intermediate image ids a build printed (<c>---&gt; abc123</c>) so cleanup can remove them.</summary>
    public void TrackOutput(string line)
    {
        var m = StepImage().Match(line);
        if (m.Success) lock (_intermediates) _intermediates.Add(m.Groups[1].Value);
    }

    public async Task<IList<ImagesListResponse>> LabelledImagesAsync() =>
        await Docker.Images.ListImagesAsync(new ImagesListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{LabelKey}={Id}"] = true } },
        });

    /// <summary>Runs the image with the given entry point (no network, this test's label) and returns its output.</summary>
    public async Task<(long ExitCode, string Output)> RunAsync(string image, IList<string>? entrypoint = null, IList<string>? cmd = null, string? user = null)
    {
        var created = await Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Entrypoint = entrypoint,
            Cmd = cmd,
            User = user,
            Labels = new Dictionary<string, string>(Labels),
            NetworkDisabled = true,
            HostConfig = new HostConfig { NetworkMode = "none" },
        });
        try
        {
            await Docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var wait = await Docker.Containers.WaitContainerAsync(created.ID, cts.Token);
            using var logs = await Docker.Containers.GetContainerLogsAsync(created.ID, false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, cts.Token);
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(cts.Token);
            return (wait.StatusCode, stdout + stderr);
        }
        finally
        {
            await Docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var containers = await Docker.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{LabelKey}={Id}"] = true } },
            });
            foreach (var c in containers)
                await Ignore(() => Docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }));
            foreach (var image in await LabelledImagesAsync())
                await Ignore(() => Docker.Images.DeleteImageAsync(image.ID, new ImageDeleteParameters { Force = true, NoPrune = false }));
            // Untagged step images of failed or cached builds; an id still used by another image stays (conflict).
            string[] intermediates;
            lock (_intermediates) intermediates = [.. _intermediates.AsEnumerable().Reverse().Distinct()];
            foreach (var id in intermediates)
                await Ignore(async () =>
                {
                    // The first step prints the base image's id: anything tagged is not ours to delete.
                    var image = await Docker.Images.InspectImageAsync(id);
                    if (image.RepoTags is { Count: > 0 } tags && tags.Any(t => t != "<none>:<none>")) return;
                    await Docker.Images.DeleteImageAsync(id, new ImageDeleteParameters { Force = false, NoPrune = false });
                });
        }
        finally
        {
            Docker.Dispose();
        }
    }

    private static async Task Ignore(Func<Task> action)
    {
        try { await action(); } catch (DockerApiException) { }
    }

    [GeneratedRegex(@"^ ---> ([0-9a-f]{12})\s*$")]
    private static partial Regex StepImage();
}
