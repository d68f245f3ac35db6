using System.Text.RegularExpressions;

namespace Slipway.BuildConfig;

/// <summary>Blubber's value rules (blubber-v4 §9) as pure predicates.</summary>
public static partial class Validators
{
    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9\-\.]+[a-zA-Z0-9]$")]
    private static partial Regex VariantNameRx();

    // distribution/reference ReferenceRegexp: [domain[:port]/]path[:tag][@digest]
    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")]
    private static partial Regex ImageRefRx();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]+$")]
    private static partial Regex EnvVarRx();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9+.\-]+(?:=[0-9][A-Za-z0-9.+~:\-]*|/[a-z0-9][a-z0-9.\-]*)?$")]
    private static partial Regex DebianPackageRx();

    // Unanchored on purpose, as Blubber's release check is loose.
    [GeneratedRegex(@"[a-z0-9][a-z0-9.\-]*")]
    private static partial Regex DebianReleaseRx();

    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9.\-]*$")]
    private static partial Regex DebianWordRx();

    // RFC 952 hostname (go-playground "hostname").
    [GeneratedRegex(@"^[a-zA-Z]([a-zA-Z0-9\-]+[\.]?)*[a-zA-Z0-9]$")]
    private static partial Regex HostnameRx();

    [GeneratedRegex(@"^[a-zA-Z0-9]+$")]
    private static partial Regex AlphaNumRx();

    [GeneratedRegex(@"^\s*(?:(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!\-]+\s*)(?:,\s*(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!\-]+\s*)*$|^[0-9][A-Za-z0-9.*+!\-]*$")]
    private static partial Regex PyVersionRx();

    public static bool IsVariantName(string s) => VariantNameRx().IsMatch(s);
    public static bool IsImageRef(string s) => s.Length <= 255 && ImageRefRx().IsMatch(s);
    public static bool IsEnvVarName(string s) => EnvVarRx().IsMatch(s);
    public static bool IsDebianPackage(string s) => DebianPackageRx().IsMatch(s);
    public static bool IsDebianRelease(string s) => DebianReleaseRx().IsMatch(s) && !s.Any(c => c is ' ' or '"' or '\\' or '$' or '`');
    public static bool IsDebianWord(string s) => DebianWordRx().IsMatch(s);
    public static bool IsUserName(string s) => s != "root" && HostnameRx().IsMatch(s);
    public static bool IsNodeEnv(string s) => AlphaNumRx().IsMatch(s);
    public static bool IsPythonVersionSpec(string s) => PyVersionRx().IsMatch(s);

    public static bool IsHttpUrl(string s) =>
        (s.StartsWith("http://", StringComparison.Ordinal) || s.StartsWith("https://", StringComparison.Ordinal))
        && Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Host.Length > 0 && !s.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or '$' or '`');

    /// <summary>Absolute, clean (no <c>.</c>/<c>..</c> segments, no doubled slashes), and not <c>/</c>.</summary>
    public static bool IsAbsNonRootPath(string s) =>
        s.StartsWith('/') && s.Length > 1 && Segments(s).All(seg => seg is not ("." or ".." or "")) && !s.EndsWith('/')
        || s.StartsWith('/') && s.Length > 2 && s.EndsWith('/') && IsAbsNonRootPath(s.TrimEnd('/'));

    /// <summary>True if a relative path stays inside its root (no <c>..</c> climbing above it).</summary>
    public static bool StaysInside(string relative)
    {
        var depth = 0;
        foreach (var seg in Segments(relative))
        {
            if (seg == "..") { if (--depth < 0) return false; }
            else if (seg is not ("." or "")) depth++;
        }
        return true;
    }

    public static bool HasParentSegment(string path) => Segments(path).Contains("..");

    private static string[] Segments(string p) => p.Trim('/').Split('/');
}
