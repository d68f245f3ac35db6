using System.Text;
using System.Text.RegularExpressions;

namespace Slipway.BuildConfig;

/// <summary>
/// <c>.dockerignore</c> pattern semantics (also used for <c>exclude</c>): Go filepath.Match globs
/// plus <c>**</c>, leading <c>!</c> re-includes, the last matching pattern wins, and a pattern that
/// matches a directory matches everything below it.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Rx, bool Negate)> _patterns = [];

    public DockerIgnore(IEnumerable<string> patterns)
    {
        foreach (var raw in patterns)
        {
            var p = raw.Trim();
            if (p.Length == 0 || p.StartsWith('#')) continue;
            var negate = p.StartsWith('!');
            if (negate) p = p[1..].Trim();
            p = Clean(p);
            if (p.Length == 0) continue;
            _patterns.Add((new Regex("^" + ToRegex(p) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), negate));
        }
    }

    public static DockerIgnore FromFileText(string text) => new(text.Split('\n'));

    public bool IsEmpty => _patterns.Count == 0;

    /// <summary>Whether a context-relative path (<c>/</c>-separated) is excluded.</summary>
    public bool Excludes(string path)
    {
        path = Clean(path);
        var excluded = false;
        foreach (var (rx, negate) in _patterns)
        {
            if (MatchesSelfOrParent(rx, path)) excluded = !negate;
        }
        return excluded;
    }

    private static bool MatchesSelfOrParent(Regex rx, string path)
    {
        if (rx.IsMatch(path)) return true;
        for (var i = path.LastIndexOf('/'); i > 0; i = path.LastIndexOf('/', i - 1))
            if (rx.IsMatch(path[..i])) return true;
        return false;
    }

    /// <summary>
    /// The patterns as POSIX extended regular expressions (for awk in a build step), anchored, in order, with their
    /// negation; null when a pattern holds a backslash (an escape whose meaning differs between the two).
    /// </summary>
    public static List<(string Ere, bool Negate)>? ToEre(IEnumerable<string> patterns)
    {
        var result = new List<(string, bool)>();
        foreach (var raw in patterns)
        {
            var p = raw.Trim();
            if (p.Length == 0 || p.StartsWith('#')) continue;
            if (p.Contains('\\')) return null;
            var negate = p.StartsWith('!');
            if (negate) p = p[1..].Trim();
            p = Clean(p);
            if (p.Length == 0) continue;
            var sb = new StringBuilder("^");
            for (var i = 0; i < p.Length; i++)
            {
                var c = p[i];
                if (c == '*' && i + 1 < p.Length && p[i + 1] == '*')
                {
                    i++;
                    if (i + 1 < p.Length && p[i + 1] == '/') { i++; sb.Append("(.*/)?"); }
                    else sb.Append(".*");
                }
                else if (c == '*') sb.Append("[^/]*");
                else if (c == '?') sb.Append("[^/]");
                else if (c == '[' && p.IndexOf(']', i + 1) is var end and > 0)
                {
                    var body = p[(i + 1)..end];
                    sb.Append('[').Append(body).Append(']');
                    i = end;
                }
                else if (c is '^' or '$') sb.Append('\\').Append(c);
                else if (c is '.' or '+' or '(' or ')' or '{' or '}' or '|' or '[' or ']') sb.Append('[').Append(c).Append(']');
                else sb.Append(c);
            }
            result.Add((sb.Append('$').ToString(), negate));
        }
        return result;
    }

    internal static string Clean(string p)
    {
        var parts = new List<string>();
        foreach (var seg in p.Replace('\\', '/').Split('/'))
        {
            if (seg is "" or ".") continue;
            if (seg == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(seg);
        }
        return string.Join('/', parts);
    }

    private static string ToRegex(string p)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '*' && i + 1 < p.Length && p[i + 1] == '*')
            {
                i++;
                if (i + 1 < p.Length && p[i + 1] == '/') { i++; sb.Append("(?:.*/)?"); }
                else sb.Append(".*");
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else if (c == '[')
            {
                var end = p.IndexOf(']', i + 1);
                if (end < 0) { sb.Append(@"\["); continue; }
                var body = p[(i + 1)..end];
                if (body.StartsWith('^')) body = "^" + body[1..];
                sb.Append('[').Append(body.Replace(@"\", @"\\")).Append(']');
                i = end;
            }
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return sb.ToString();
    }
}
