namespace Slipway.Contracts;

/// <summary>
/// A run a new tag started: a <see cref="TriggerKind.RefUpdate"/> of <c>refs/tags/&lt;name&gt;</c>, with no branch
/// (Wikimedia's Zuul ran PipelineLib's publish pipeline on it, <c>${setup.tag}</c> being the name).
/// </summary>
public static class TriggerTags
{
    public const string Prefix = "refs/tags/";

    /// <summary>The tag's name (<c>v1.2</c>) when a tag started the run, else null.</summary>
    public static string? TagName(this RunTrigger trigger) =>
        trigger.Kind == TriggerKind.RefUpdate && trigger.Ref.StartsWith(Prefix, StringComparison.Ordinal) && trigger.Ref.Length > Prefix.Length
            ? trigger.Ref[Prefix.Length..]
            : null;
}
