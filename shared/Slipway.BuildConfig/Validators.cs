using System.Text.RegularExpressions;

namespace Slipway.BuildConfig;

/// <summary>
/// Blubber's value rules (config/validation.go at v1.8.0) as pure predicates, regex for regex (Go's <c>$</c> is the end
/// of the text, so it is <c>\z</c> here: .NET's <c>$</c> also matches before a final line break). The few rules where
/// Slipway is stricter are separate predicates (<c>*Strict</c>, <see cref="HasShellExpansion"/>), so a refusal can
/// say whether Blubber itself would refuse the value or only Slipway does, and why (docs/blubber.md).
/// </summary>
public static partial class Validators
{
    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9\-\.]+[a-zA-Z0-9]\z")]
    private static partial Regex VariantNameRx();

    // distribution/reference ReferenceRegexp: [domain[:port]/]path[:tag][@digest]
    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?\z")]
    private static partial Regex ImageRefRx();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]+\z")]
    private static partial Regex EnvVarRx();

    // debianPackageRegexp: name, then optionally =[epoch:]version or /release.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9+.\-]+(?:=(?:[0-9]+:)?[0-9]+[a-zA-Z0-9\.\+\-~]*|/[a-zA-Z](?:[a-zA-Z0-9\-]*[a-zA-Z0-9]+)?)?\z")]
    private static partial Regex DebianPackageRx();

    // debianReleaseRegexp and debianComponentRegexp are unanchored in Blubber: a value passes when it contains a match.
    [GeneratedRegex(@"[a-zA-Z](?:[a-zA-Z0-9\-]*[a-zA-Z0-9]+)?")]
    private static partial Regex DebianReleaseRx();

    [GeneratedRegex(@"[a-z0-9][a-z0-9+./\-]+")]
    private static partial Regex DebianComponentRx();

    // go-playground validator v9 "hostname" (RFC 952).
    [GeneratedRegex(@"^[a-zA-Z]([a-zA-Z0-9\-]+[\.]?)*[a-zA-Z0-9]\z")]
    private static partial Regex HostnameRx();

    [GeneratedRegex(@"^[a-zA-Z0-9]+\z")]
    private static partial Regex AlphaNumRx();

    // pythonContraintRegexp: one or more comma-separated "<cmp><version>", no spaces.
    [GeneratedRegex(@"^(?:<|<=|!=|==|>=|>|~=)[a-z-A-Z0-9\-_\.\*\+!]+(?:,(?:<|<=|!=|==|>=|>|~=)[a-z-A-Z0-9\-_\.\*\+!]+)*\z")]
    private static partial Regex PyConstraintRx();

    // Slipway's rule for the pip/setuptools/wheel/tox pins, which Blubber does not check: a bare version or constraints.
    [GeneratedRegex(@"^\s*(?:(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!\-]+\s*)(?:,\s*(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!\-]+\s*)*\z|^[0-9][A-Za-z0-9.*+!\-]*\z")]
    private static partial Regex PyVersionRx();

    public static bool IsVariantName(string s) => VariantNameRx().IsMatch(s);
    /// <summary>Blubber's imageref; Slipway also caps the length at 255 (Docker refuses longer names).</summary>
    public static bool IsImageRef(string s) => s.Length <= 255 && ImageRefRx().IsMatch(s);
    public static bool IsEnvVarName(string s) => EnvVarRx().IsMatch(s);
    public static bool IsDebianPackage(string s) => DebianPackageRx().IsMatch(s);
    public static bool IsDebianRelease(string s) => DebianReleaseRx().IsMatch(s);
    /// <summary>Blubber's debiancomponent, after its <c>omitempty</c>: an empty component passes.</summary>
    public static bool IsDebianComponent(string s) => s.Length == 0 || DebianComponentRx().IsMatch(s);
    public static bool IsUserName(string s) => s != "root" && HostnameRx().IsMatch(s);
    public static bool IsNodeEnv(string s) => AlphaNumRx().IsMatch(s);
    /// <summary>Blubber's pypkgver (only <c>poetry.version</c> is checked with it).</summary>
    public static bool IsPythonConstraint(string s) => PyConstraintRx().IsMatch(s);
    /// <summary>Slipway's rule for pip/setuptools/wheel/tox pins (Blubber checks none).</summary>
    public static bool IsPythonVersionSpec(string s) => PyVersionRx().IsMatch(s);

    /// <summary>
    /// Blubber's httpurl (Go's url.Parse succeeds, scheme http or https) together with its JSON schema's pattern
    /// <c>^https?://</c>, which runs first and so makes the scheme lower case and the <c>//</c> required.
    /// </summary>
    public static bool IsHttpUrl(string s) =>
        s.StartsWith("http://", StringComparison.Ordinal) || s.StartsWith("https://", StringComparison.Ordinal);

    /// <summary>
    /// Slipway's addition to <see cref="IsHttpUrl"/>: no whitespace, quotes, backslashes, <c>$</c>, <c>`</c> or <c>;</c>,
    /// because the URL is written into apt's configuration (<c>Acquire::http::Proxy "…";</c>), where a quote would end
    /// the string and let the value add apt options (some of which run commands).
    /// </summary>
    public static bool IsHttpUrlStrict(string s) => IsHttpUrl(s) && !s.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or '$' or '`' or ';');

    /// <summary>Whether a value would be expanded by the shell inside double quotes (<c>$</c> or <c>`</c>).</summary>
    public static bool HasShellExpansion(string s) => s.Contains('$') || s.Contains('`');

    /// <summary>Blubber's abspath: <c>path.IsAbs(v) &amp;&amp; path.Base(path.Clean(v)) != "/"</c>.</summary>
    public static bool IsAbsNonRootPath(string s) => s.StartsWith('/') && CleanPath(s) != "/";

    /// <summary>Blubber's relativelocal: not absolute and <c>path.Clean</c> does not start with <c>..</c>.</summary>
    public static bool IsRelativeLocal(string s) => !s.StartsWith('/') && !CleanPath(s).StartsWith("..", StringComparison.Ordinal);

    /// <summary>True if a relative path stays inside its root (no <c>..</c> climbing above it).</summary>
    public static bool StaysInside(string relative)
    {
        var depth = 0;
        foreach (var seg in relative.Trim('/').Split('/'))
        {
            if (seg == "..") { if (--depth < 0) return false; }
            else if (seg is not ("." or "")) depth++;
        }
        return true;
    }

    /// <summary>Go's <c>path.Clean</c>: lexical, <c>/</c>-separated.</summary>
    public static string CleanPath(string p)
    {
        if (p.Length == 0) return ".";
        var rooted = p.StartsWith('/');
        var parts = new List<string>();
        foreach (var seg in p.Split('/'))
        {
            if (seg is "" or ".") continue;
            if (seg == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!rooted) parts.Add("..");
                continue;
            }
            parts.Add(seg);
        }
        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
    }
}
