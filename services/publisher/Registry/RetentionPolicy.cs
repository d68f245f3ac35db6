namespace Slipway.Publisher.Registry;

/// <summary>
/// Which manifests of a repository to keep (pure; <see cref="RetentionCleaner"/> does the I/O).
/// <para>
/// The newest <c>keep</c> Slipway timestamp tags (<c>yyyy-MM-dd-HHmmss-&lt;stage&gt;</c>, ordered by their
/// time, then by name) are kept, and so are the manifests they point at, with every other tag on those
/// manifests (the commit SHA tags, extra tags). Every other manifest carrying a timestamp tag is deleted.
/// </para>
/// <para>
/// Tags that are not Slipway's (no timestamp: a release tag, something pushed by hand or by another
/// tool) are never a reason to delete anything: a manifest with no timestamp tag at all is kept, because
/// Slipway does not know its lifecycle. Such a tag only disappears when it points at a manifest that
/// retention deletes: the registry API deletes manifests, not tags (distribution has no portable
/// tag delete), and a deleted manifest takes every tag on it. Keeping such a manifest for the sake of
/// a stray tag instead would let one extra tag (e.g. PipelineLib's <c>tags: [${setup.tag}]</c>) pin
/// every release forever, which is the growth retention exists to stop.
/// </para>
/// </summary>
public static class RetentionPolicy
{
    /// <param name="tagDigests">Every tag of the repository and the manifest digest it points at.</param>
    /// <param name="keep">How many timestamp tags to keep (at least 1).</param>
    /// <param name="protectedDigests">Manifests never deleted, whatever their age: deployed in an environment,
    /// the rollback target, or waiting for an approval (<see cref="ProtectedImages"/>). They do not count towards <paramref name="keep"/>.</param>
    public static RetentionPlan Select(IReadOnlyDictionary<string, string> tagDigests, int keep, IReadOnlySet<string>? protectedDigests = null)
    {
        ArgumentNullException.ThrowIfNull(tagDigests);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);

        var timestamped = tagDigests
            .Select(kv => (Tag: kv.Key, Digest: kv.Value, Time: PublishTags.TimestampOf(kv.Key)))
            .Where(t => t.Time is not null)
            .OrderByDescending(t => t.Time)
            .ThenByDescending(t => t.Tag, StringComparer.Ordinal)
            .ToList();

        var kept = timestamped.Take(keep).ToList();
        var keepDigests = kept.Select(t => t.Digest).ToHashSet(StringComparer.Ordinal);
        var deleteDigests = timestamped.Skip(keep)
            .Select(t => t.Digest)
            .Where(d => !keepDigests.Contains(d) && protectedDigests?.Contains(d) != true)
            .Distinct(StringComparer.Ordinal)
            .ToDictionary(
                d => d,
                d => (IReadOnlyList<string>)tagDigests.Where(kv => kv.Value == d).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList(),
                StringComparer.Ordinal);

        return new RetentionPlan(kept.Select(t => t.Tag).ToList(), keepDigests, deleteDigests);
    }
}
