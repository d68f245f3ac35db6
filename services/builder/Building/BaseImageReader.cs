using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.BuildConfig;
using Slipway.Containers;

namespace Slipway.Builder.Building;

/// <summary>
/// Reads a base image's config (entry point, command, environment, platform) from the engine, for what Blubber reads
/// from it (<see cref="BaseImageConfig"/>): the image as the engine has it, pulled first when it lacks it, with the
/// read credentials of the image's own registry only. The caller checks the image policy before (never pulls an
/// image the policy refuses). BuildKit in dockerd uses the engine's local image for <c>FROM</c> when it has it, so
/// the build runs on the image read here.
/// </summary>
public sealed class BaseImageReader(IDockerClient docker, IReadOnlyList<RegistryOptions> registryAuth, TimeSpan pullTimeout, ILogger logger)
{
    /// <summary>Reads <paramref name="image"/>'s config; a refusal (cannot pull, config over its bounds) is a <see cref="BaseImageException"/>.</summary>
    public async Task<BaseImageConfig> ReadAsync(string image, CancellationToken ct)
    {
        var reference = ImageReference.TryParse(image) ?? throw new BaseImageException($"base image \"{UnsafePathException.Printable(image)}\" is not a valid image reference");
        // Without a tag or digest the engine would pull every tag; Blubber (and BuildKit) mean :latest.
        var name = reference.Tag is null && reference.Digest is null ? image + ":latest" : image;
        var inspected = await ImagePull.InspectAsync(docker, name, ct) ?? await PullAsync(name, reference, ct);
        var config = new BaseImageConfig
        {
            Entrypoint = inspected.Config?.Entrypoint?.ToList(),
            Cmd = inspected.Config?.Cmd?.ToList(),
            Env = inspected.Config?.Env?.ToList() ?? [],
            Os = inspected.Os is { Length: > 0 } os ? os : null,
            Architecture = inspected.Architecture is { Length: > 0 } arch ? arch : null,
            Variant = inspected.Variant is { Length: > 0 } variant ? variant : null,
        };
        try
        {
            config.Check(image);
        }
        catch (BlubberException e)
        {
            throw new BaseImageException(e.Message);
        }
        return config;
    }

    private async Task<ImageInspectResponse> PullAsync(string name, ImageReference reference, CancellationToken ct)
    {
        var (repository, tag) = ImagePull.Split(name);
        logger.LogInformation("Pulling base image {Image} to read its config", name);
        var error = await ImagePull.RunAsync(docker, repository, tag, AuthFor(reference), pullTimeout, ct);
        return await ImagePull.InspectAsync(docker, name, ct)
            ?? throw new BaseImageException($"cannot pull base image \"{name}\" to read its config: {error ?? "the engine reported no error but the image is missing"}");
    }

    // Credentials go only to the registry they are for (host and port exactly).
    private AuthConfig? AuthFor(ImageReference reference)
    {
        foreach (var r in registryAuth)
            if (r.Url is { Length: > 0 } url && ImageReference.NormalizeRegistryEntry(url) is { } host && reference.IsFrom(host) && r.Username is not null)
                return new AuthConfig { ServerAddress = host, Username = r.Username, Password = r.Password };
        return null;
    }
}

/// <summary>A base image whose config could not be read (not pullable, over its bounds); the message says which and why.</summary>
public sealed class BaseImageException(string message) : Exception(message);
