using Microsoft.Extensions.Logging;

namespace Slipway.Publisher.Registry;

/// <summary>
/// Applies <see cref="RetentionPolicy"/> to one repository through the registry API: lists its tags,
/// resolves each to its manifest digest, and deletes the manifests the policy lets go.
/// Safe to repeat: a manifest already gone counts as deleted. Images deployed in any environment, the
/// rollback targets and images waiting for approval (<see cref="ProtectedImages"/>) are never deleted.
/// <para>
/// Not atomic (no registry offers that): a tag pushed between the listing and a delete is deleted
/// with its manifest only if it points at an expired manifest, which only a re-publish of that very
/// old image does. Run retention after a publish, from the same worker, and it cannot race its own pushes.
/// </para>
/// </summary>
public sealed class RetentionCleaner(RegistryClient registry, PublisherOptions options, ILogger<RetentionCleaner> logger,
    ProtectedImages? protectedImages = null)
{
    public async Task<RetentionPlan> ApplyAsync(string repository, CancellationToken ct = default)
    {
        PublishTags.ValidateRepository(repository);
        var tagDigests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in await registry.ListTagsAsync(repository, ct))
            if (await registry.GetManifestDigestAsync(repository, tag, ct) is { } digest) // gone since the listing: skip
                tagDigests[tag] = digest;

        // Read after the listing: an image deployed meanwhile is protected before anything is deleted.
        var keep = protectedImages is null ? null : await protectedImages.DigestsAsync(ct);
        var plan = RetentionPolicy.Select(tagDigests, options.KeepTags, keep);
        foreach (var digest in keep is null ? [] : tagDigests.Values.Distinct().Where(keep.Contains))
            logger.LogDebug("Retention keeps {Repository}@{Digest}: deployed, a rollback target or waiting for approval", repository, digest);
        foreach (var (digest, tags) in plan.DeleteDigests)
        {
            var deleted = await registry.DeleteManifestAsync(repository, digest, ct);
            logger.LogInformation("Retention {Action} {Repository}@{Digest} (tags {Tags}); keeping the newest {Keep} timestamp tags",
                deleted ? "deleted" : "found already deleted", repository, digest, string.Join(", ", tags), options.KeepTags);
        }
        return plan;
    }
}
