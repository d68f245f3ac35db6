namespace Slipway.Reporter.Comments;

/// <summary>Which comment of a run: one when it starts, one when it ends.</summary>
public enum CommentKind
{
    Started,
    Finished,
}
