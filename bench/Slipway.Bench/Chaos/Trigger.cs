using Slipway.Contracts;

namespace Slipway.Bench.Chaos;

/// <summary>Something the campaign did in Gerrit that must start exactly one run.</summary>
public sealed record Trigger(TriggerKind Kind, int Change, int Patchset, string? MergedRevision = null)
{
    public bool Matches(RunTrigger t) => Kind switch
    {
        TriggerKind.Merge => (t.Kind == TriggerKind.Merge && t.Change == Change)
                             || (t.Kind == TriggerKind.RefUpdate && MergedRevision is not null && t.Revision == MergedRevision),
        TriggerKind.Recheck => t.Kind == TriggerKind.Recheck && t.Change == Change,
        _ => t.Kind == Kind && t.Change == Change && t.Patchset == Patchset,
    };

    public override string ToString() => Kind == TriggerKind.Merge ? $"merge of {Change}" : $"{Kind.ToString().ToLowerInvariant()} {Change}/{Patchset}";
}
