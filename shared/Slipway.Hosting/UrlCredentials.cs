using System.Text.RegularExpressions;

namespace Slipway.Hosting;

/// <summary>Hides credentials embedded in URLs (<c>https://user:secret@host/..</c>) wherever text is logged or reported.</summary>
public static partial class UrlCredentials
{
    /// <summary>The text with every URL's <c>userinfo@</c> part replaced by <c>***@</c>.</summary>
    public static string Redact(string text) => UserInfo().Replace(text, "$1***@");

    [GeneratedRegex(@"([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s]+@")]
    private static partial Regex UserInfo();
}
