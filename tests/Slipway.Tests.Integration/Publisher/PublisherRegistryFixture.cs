using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Embedded;
using Slipway.Containers;
using Slipway.Publisher;
using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

/// <summary>
/// A registry of the publisher tests' own (the embedded <see cref="LocalRegistry"/>, deletes enabled,
/// htpasswd, a free 127.0.0.1 port, temporary storage) and test images made from the base image with
/// a unique label. Everything it creates is removed on dispose; the shared infrastructure is only read.
/// </summary>
public sealed class PublisherRegistryFixture : IAsyncLifetime
{
    public const string Label = "slipway.test.publisher";
    private readonly string _runId = Guid.NewGuid().ToString("N")[..10];
    private readonly List<string> _images = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "slipway-publisher-test-" + Guid.NewGuid().ToString("N")[..8]);

    public LocalRegistry Registry { get; private set; } = null!;
    public IDockerClient Docker { get; private set; } = null!;
    public RegistryOptions Options => new() { Url = Registry.Url, Username = Registry.Username, Password = Registry.Password };
    public string BaseImage { get; } = Environment.GetEnvironmentVariable("Slipway__BaseImage") is { Length: > 0 } b ? b : "slipway/debian:bookworm";

    public async Task InitializeAsync()
    {
        var endpoint = Environment.GetEnvironmentVariable("Docker__Endpoint") is { Length: > 0 } e ? e : "unix:///var/run/docker.sock";
        Docker = new DockerClientConfiguration(new Uri(endpoint)).CreateClient();
        Registry = new LocalRegistry(_directory);
        await Registry.StartAsync(log: TextWriter.Null);
        await EnsureBaseImageAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var image in _images)
        {
            try { await Docker.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true }); }
            catch (DockerApiException) { }
        }
        try { await Registry.StopAsync(); } catch (Exception) { /* best effort */ }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Docker.Dispose();
    }

    public RegistryClient RegistryClient(RegistryOptions? options = null, ListLogger<RegistryClient>? logger = null) =>
        new(new HttpClient { Timeout = TimeSpan.FromSeconds(30) }, options ?? Options, logger ?? new ListLogger<RegistryClient>());

    public ImagePublisher Publisher(RegistryOptions? options = null, ListLogger<ImagePublisher>? logger = null)
    {
        options ??= Options;
        return new ImagePublisher(Docker, RegistryClient(options), options, logger ?? new ListLogger<ImagePublisher>());
    }

    public RetentionCleaner Cleaner(int keep) =>
        new(RegistryClient(), new PublisherOptions { KeepTags = keep }, NullLogger<RetentionCleaner>.Instance);

    /// <summary>A new, distinct image (the base image plus a unique label), named <c>slipway-test-publisher:&lt;id&gt;</c> locally.</summary>
    public async Task<string> CreateImageAsync()
    {
        var unique = Guid.NewGuid().ToString("N")[..12];
        var container = await Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = BaseImage,
            Name = $"slipway-test-publisher-{unique}",
            Labels = new Dictionary<string, string> { [Label] = _runId },
            NetworkDisabled = true,
            Cmd = ["true"],
        });
        try
        {
            var commit = await Docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
            {
                ContainerID = container.ID,
                RepositoryName = "slipway-test-publisher",
                Tag = unique,
                Changes = [$"LABEL {Label}={_runId} {Label}.image={unique}"],
            });
            _images.Add(commit.ID);
            return commit.ID;
        }
        finally
        {
            await Docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    public static string UniqueRepository(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 11)];

    private async Task EnsureBaseImageAsync()
    {
        try
        {
            await Docker.Images.InspectImageAsync(BaseImage);
        }
        catch (DockerImageNotFoundException)
        {
            // Pull it from the shared registry (read only) with the infrastructure's credentials.
            var auth = new AuthConfig
            {
                Username = Environment.GetEnvironmentVariable("Registry__Username"),
                Password = Environment.GetEnvironmentVariable("Registry__Password"),
                ServerAddress = Environment.GetEnvironmentVariable("Registry__Url"),
            };
            var colon = BaseImage.LastIndexOf(':');
            await Docker.Images.CreateImageAsync(
                new ImagesCreateParameters { FromImage = BaseImage[..colon], Tag = BaseImage[(colon + 1)..] }, auth, new Progress<JSONMessage>());
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PublisherRegistryCollection : ICollectionFixture<PublisherRegistryFixture>
{
    public const string Name = "publisher-registry";
}
