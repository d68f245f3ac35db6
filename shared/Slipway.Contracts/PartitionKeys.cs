namespace Slipway.Contracts;

/// <summary>
/// Kafka message keys. Kafka keeps the order of messages with the same key, so one change's
/// Gerrit events, and one run's pipeline events, are consumed in the order they were produced.
/// </summary>
public static class PartitionKeys
{
    /// <summary>Key of a change's Gerrit events on <see cref="Topics.GerritEvents"/>: <c>project~change</c>, e.g. <c>mediawiki/services/foo~1234</c>.</summary>
    public static string ForChange(string project, int changeNumber) => $"{project}~{changeNumber}";

    /// <summary>Key of a ref update on <see cref="Topics.GerritEvents"/> (no change): <c>project~ref</c>, e.g. <c>foo~refs/heads/master</c>.</summary>
    public static string ForRef(string project, string refName) => $"{project}~{refName}";

    /// <summary>Key of every pipeline event on <see cref="Topics.PipelineEvents"/>: the run id.</summary>
    public static string ForRun(string runId) => runId;

    /// <summary>The key for a normalized Gerrit event: by change when it has one, else by ref, else by project.</summary>
    public static string For(GerritEvent e) =>
        e.Project is null ? e.Type
        : e.ChangeNumber is { } change ? ForChange(e.Project, change)
        : (e.RefUpdate?.RefName ?? e.Ref) is { } refName ? ForRef(e.Project, refName)
        : e.Project;
}
