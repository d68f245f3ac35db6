using System.Text.RegularExpressions;

namespace Slipway.Contracts;

/// <summary>Reading <see cref="GerritEvent.Comment"/>: Gerrit prefixes what the person wrote with a "Patch Set N: votes" line.</summary>
public static partial class GerritComments
{
    /// <summary>What the person wrote: the comment without Gerrit's "Patch Set N:" header line.</summary>
    public static string Text(string comment) => Header().Replace(comment, "");

    [GeneratedRegex(@"\A\s*Patch Set \d+:[^\n]*\n?")]
    private static partial Regex Header();
}
