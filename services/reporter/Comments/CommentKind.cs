namespace Slipway.Reporter.Comments;

/// <summary>Which comment of a run: one when it starts, one when it ends, and optional progress in between.</summary>
public enum CommentKind
{
    Started,
    Finished,
    Progress,
}

/// <summary>The step a progress comment announces: its number in the run and its stage/step name.</summary>
public sealed record ProgressStep(int Number, string Name);
