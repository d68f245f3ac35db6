namespace Slipway.Gerrit.Events;

/// <summary>
/// Bounds on what the gateway accepts from Gerrit. A real event is a few KB (a commit message
/// dominates); anything far beyond is refused, never parsed into memory-hungry structures.
/// </summary>
public static class GerritEventLimits
{
    /// <summary>Longest accepted stream line, in characters.</summary>
    public const int MaxLineLength = 1_000_000;

    /// <summary>Deepest accepted JSON nesting; Gerrit's events nest about five levels.</summary>
    public const int MaxDepth = 32;

    /// <summary>Longest text kept from free-text fields (comment, subject) in the normalized record.</summary>
    public const int MaxTextLength = 64 * 1024;
}
