using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Containers;

namespace Slipway.Publisher.Registry;

/// <summary>
/// Pushes an image from the Docker engine to the registry under the given tags, idempotently:
/// a tag the registry already has at this very image (its manifest's config digest is the local
/// image id) is not pushed again, so a re-delivered event pushes nothing and returns the same
/// result. The digest returned is the registry's manifest digest (HEAD after the push). The engine pushes the image
/// once, under its first tag (only when no tag holds it yet); the other tags get the same manifest by a registry PUT,
/// so the engine does not check every layer again for each tag.
/// <para>
/// Local tags: pushing needs the image tagged <c>&lt;registry&gt;/&lt;repository&gt;:&lt;tag&gt;</c> on the engine.
/// The tags this call adds are removed again after the push (the idempotency check asks the
/// registry, not the engine, so nothing depends on them), except when a tag is the image's only
/// remaining name: removing it would delete the image under whoever built it.
/// </para>
/// </summary>
public sealed class ImagePublisher(IDockerClient docker, RegistryClient registry, RegistryOptions options, ILogger<ImagePublisher> logger)
{
    /// <summary>Pushes <paramref name="localImage"/> (an image id or reference on the engine) as <paramref name="repository"/>:<paramref name="tags"/>.</summary>
    /// <exception cref="ArgumentException">Bad repository or tag (including <c>latest</c>).</exception>
    /// <exception cref="PublishException">The local image is missing, the push failed, or the tags ended up at different digests.</exception>
    /// <exception cref="RegistryException">The registry refused the credentials or failed.</exception>
    public async Task<PublishResult> PublishAsync(string localImage, string repository, IReadOnlyList<string> tags, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localImage);
        PublishTags.ValidateRepository(repository);
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count == 0) throw new ArgumentException("at least one tag is required", nameof(tags));
        foreach (var tag in tags) PublishTags.Validate(tag);
        if (tags.Distinct(StringComparer.Ordinal).Count() != tags.Count) throw new ArgumentException("tags must be distinct", nameof(tags));

        var image = await InspectAsync(localImage, ct);
        var target = $"{registry.Host}/{repository}";
        if (target.Length > 255) throw new ArgumentException($"image name '{target}' is longer than 255 characters", nameof(repository));

        var pushed = new List<string>();
        var present = new List<string>();
        RegistryManifest? source = null; // this image's manifest in the registry, once known
        var manifests = await Task.WhenAll(tags.Select(tag => registry.GetManifestAsync(repository, tag, ct)));
        for (var i = 0; i < tags.Count; i++)
        {
            var manifest = manifests[i];
            // Same image: its config blob is the engine's image id (classic image store), or the engine
            // remembers pushing exactly this manifest to this repository (containerd image store, where
            // the image id is the manifest's own digest).
            if (manifest is not null
                && (string.Equals(manifest.ConfigDigest, image.ID, StringComparison.Ordinal)
                    || image.RepoDigests?.Contains($"{target}@{manifest.Digest}") == true))
            {
                present.Add(tags[i]);
                source ??= manifest;
                logger.LogInformation("{Target}:{Tag} already holds image {ImageId}; not pushing it again", target, tags[i], image.ID);
            }
        }

        var missing = tags.Except(present).ToList();
        if (source is null && missing.Count > 0)
        {
            // One engine push uploads the layers the registry lacks and the manifest, under the first tag.
            var first = missing[0];
            await EnginePushAsync(image, target, first, ct);
            pushed.Add(first);
            missing.RemoveAt(0);
            source = await registry.GetManifestAsync(repository, first, ct)
                ?? throw new PublishException($"{target}:{first} is missing from the registry right after the push");
        }
        // The other tags name the same manifest: its bytes PUT under each, as `docker push` of another tag would end,
        // without the engine checking every layer again. A manifest served without its media type is pushed by the engine.
        foreach (var tag in missing)
        {
            if (source is { Body.Length: > 0, MediaType.Length: > 0 })
            {
                await registry.PutManifestAsync(repository, tag, source, ct);
                logger.LogInformation("Tagged {Target}@{Digest} as {Tag}", target, source.Digest, tag);
            }
            else
                await EnginePushAsync(image, target, tag, ct);
            pushed.Add(tag);
        }

        // The manifest digest, as the registry computed it; every tag must point at it.
        var digests = await Task.WhenAll(tags.Select(tag => registry.GetManifestDigestAsync(repository, tag, ct)));
        string? digest = null;
        for (var i = 0; i < tags.Count; i++)
        {
            var tagDigest = digests[i] ?? throw new PublishException($"{target}:{tags[i]} is missing from the registry right after the push");
            digest ??= tagDigest;
            if (tagDigest != digest)
                throw new PublishException($"{target}:{tags[i]} points at {tagDigest}, not {digest} like {target}:{tags[0]}: was it pushed concurrently by someone else?");
        }

        logger.LogInformation("Published {ImageId} as {Target}@{Digest}, tags {Tags} (pushed {Pushed}, already present {Present})",
            image.ID, target, digest, string.Join(", ", tags), pushed.Count, present.Count);
        return new PublishResult(new ContainerImage { Uri = target, Tags = [.. tags], Digest = digest! }, image.ID, pushed, present);
    }

    private async Task<ImageInspectResponse> InspectAsync(string localImage, CancellationToken ct)
    {
        try
        {
            return await docker.Images.InspectImageAsync(localImage, ct);
        }
        catch (DockerImageNotFoundException e)
        {
            throw new PublishException($"image '{localImage}' is not on the Docker engine (was it built on this engine, or removed since?)", e);
        }
    }

    /// <summary>Tags the image as <paramref name="target"/>:<paramref name="tag"/> on the engine, pushes it, and removes that local tag again if this added it.</summary>
    private async Task EnginePushAsync(ImageInspectResponse image, string target, string tag, CancellationToken ct)
    {
        var reference = $"{target}:{tag}";
        var created = image.RepoTags?.Contains(reference) != true;
        try
        {
            await docker.Images.TagImageAsync(image.ID, new ImageTagParameters { RepositoryName = target, Tag = tag, Force = true }, ct);
            await PushAsync(target, tag, ct);
        }
        finally
        {
            if (created) await UntagAsync(image.ID, [reference]);
        }
    }

    private async Task PushAsync(string target, string tag, CancellationToken ct)
    {
        var progress = new PushProgress();
        var auth = new AuthConfig { Username = options.Username, Password = options.Password, ServerAddress = registry.Host };
        try
        {
            await docker.Images.PushImageAsync(target, new ImagePushParameters { Tag = tag }, auth, progress, ct);
        }
        catch (DockerApiException e)
        {
            throw new PublishException($"pushing {target}:{tag} failed: {(int)e.StatusCode} {e.ResponseBody?.Trim()}", e);
        }
        if (progress.Error is { } error)
            throw new PublishException($"pushing {target}:{tag} failed: {error}");
        logger.LogInformation("Pushed {Target}:{Tag} ({Digest})", target, tag, progress.Digest);
        logger.LogDebug("Push of {Target}:{Tag}: {Lines}", target, tag, string.Join(" | ", progress.LastLines));
    }

    /// <summary>Removes the registry-qualified tags this call added, keeping the image's last name (never deletes the image).</summary>
    private async Task UntagAsync(string imageId, IReadOnlyList<string> created)
    {
        foreach (var reference in created)
        {
            try
            {
                var image = await docker.Images.InspectImageAsync(imageId, CancellationToken.None);
                if (image.RepoTags is null || !image.RepoTags.Contains(reference) || image.RepoTags.Count < 2) continue;
                await docker.Images.DeleteImageAsync(reference, new ImageDeleteParameters { NoPrune = true }, CancellationToken.None);
            }
            catch (DockerApiException e)
            {
                logger.LogWarning("Could not remove the local tag {Reference}: {Reason}", reference, e.Message);
            }
        }
    }
}
