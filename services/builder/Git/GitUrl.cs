using System.Text.RegularExpressions;

namespace Slipway.Builder.Git;

/// <summary>Hides credentials embedded in repository URLs (<c>https://user:secret@host/..</c>) wherever text is logged or reported.</summary>
public static partial class GitUrl
{
    /// <summary>The URL (or any text containing URLs) with every <c>userinfo@</c> part replaced by <c>***@</c>.</summary>
    public static string Redact(string text) => UserInfo().Replace(text, "$1***@");

    [GeneratedRegex(@"([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s]+@")]
    private static partial Regex UserInfo();
}
