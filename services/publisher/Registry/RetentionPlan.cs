namespace Slipway.Publisher.Registry;

/// <summary>
/// What retention keeps and deletes in one repository. <see cref="DeleteDigests"/> maps each manifest
/// to delete to the tags that go with it (every tag pointing at it, whatever it looks like).
/// </summary>
public sealed record RetentionPlan(
    IReadOnlyList<string> KeptTimestampTags,
    IReadOnlySet<string> KeepDigests,
    IReadOnlyDictionary<string, IReadOnlyList<string>> DeleteDigests)
{
    /// <summary>Tags that disappear with the deleted manifests.</summary>
    public IEnumerable<string> DeletedTags => DeleteDigests.Values.SelectMany(t => t);
}
