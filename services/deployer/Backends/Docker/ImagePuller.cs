using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.Containers;

namespace Slipway.Deployer.Backends.Docker;

/// <summary>
/// Pulls an image the engine lacks, with the registry's read credentials when the image lives in that registry
/// (credentials go to no other host).
/// </summary>
public sealed class ImagePuller(IDockerClient docker, RegistryOptions? registry, TimeSpan timeout, ILogger logger)
{
    /// <summary>Null when the image is present (pulled if needed), else why it could not be pulled.</summary>
    public async Task<string?> EnsureAsync(string image, CancellationToken ct)
    {
        if (await ImagePull.InspectAsync(docker, image, ct) is not null) return null;
        var (repository, reference) = ImagePull.Split(image);
        logger.LogInformation("Pulling {Image}", image);
        var error = await ImagePull.RunAsync(docker, repository, reference, AuthFor(repository), timeout, ct);
        if (await ImagePull.InspectAsync(docker, image, ct) is not null) return null;
        return $"cannot pull {image}: {error ?? "the engine reported no error but the image is missing"}";
    }

    /// <summary>The registry host of an image reference, or null for Docker Hub's implicit one.</summary>
    public static string? RegistryHost(string repository)
    {
        var slash = repository.IndexOf('/');
        if (slash < 0) return null;
        var first = repository[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost" ? first : null;
    }

    private AuthConfig? AuthFor(string repository)
    {
        if (registry?.Url is not { Length: > 0 } url || registry.Username is null) return null;
        var host = url.Contains("://", StringComparison.Ordinal) ? new Uri(url).Authority : url.TrimEnd('/');
        return string.Equals(RegistryHost(repository), host, StringComparison.OrdinalIgnoreCase)
            ? new AuthConfig { ServerAddress = host, Username = registry.Username, Password = registry.Password }
            : null;
    }
}
