using System.Text.RegularExpressions;

namespace Slipway.Deployer.ChartsChange;

/// <summary>
/// The values files a promote edits in the charts repository. Chart and environment names come from a pipeline config
/// (untrusted): each must be one plain path segment, and every resulting path must stay inside the clone without
/// passing through a symbolic link, so no config can make the deployer write elsewhere.
/// </summary>
public static partial class ChartsPaths
{
    public static bool IsChartName(string name) => ChartName().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    public static bool IsEnvironmentName(string name) => EnvironmentName().IsMatch(name);

    /// <summary>Why an operator's path template is unusable, or null.</summary>
    public static string? TemplateError(string template, IReadOnlyList<string> placeholders)
    {
        if (string.IsNullOrWhiteSpace(template) || template.StartsWith('/') || template.Contains('\\') || template.Contains("//", StringComparison.Ordinal))
            return $"'{template}' must be a relative path with '/' separators";
        if (template.Split('/').Any(s => s is "" or "." or ".." || s.StartsWith(".git", StringComparison.Ordinal)))
            return $"'{template}' must not contain empty, '.', '..' or .git segments";
        if (!template.Contains("{chart}", StringComparison.Ordinal)) return $"'{template}' must contain {{chart}}";
        var rest = placeholders.Aggregate(template, (t, p) => t.Replace(p, "x", StringComparison.Ordinal));
        return rest.IndexOfAny(['{', '}']) >= 0 ? $"'{template}' may contain only {string.Join(" and ", placeholders)}" : null;
    }

    /// <summary>The repository-relative path of <paramref name="template"/> for a chart (and environment), validated.</summary>
    public static string Resolve(string template, string chart, string? environment = null)
    {
        if (!IsChartName(chart)) throw new ChartsChangeException($"chart '{Shorten(chart)}' is not a plain chart name (letters, digits, '.', '_', '-'; at most 100)", permanent: true);
        if (environment is not null && !IsEnvironmentName(environment))
            throw new ChartsChangeException($"environment '{Shorten(environment)}' is not a plain environment name", permanent: true);
        return template.Replace("{chart}", chart, StringComparison.Ordinal).Replace("{environment}", environment ?? "", StringComparison.Ordinal);
    }

    /// <summary>The full path of <paramref name="relative"/> inside <paramref name="root"/>; refuses an escape or a symbolic link on the way.</summary>
    public static string Contained(string root, string relative)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd('/') + "/";
        var full = Path.GetFullPath(Path.Combine(fullRoot, relative));
        if (!full.StartsWith(fullRoot, StringComparison.Ordinal)) throw new ChartsChangeException($"'{relative}' is outside the charts repository", permanent: true);
        var current = fullRoot.TrimEnd('/');
        foreach (var segment in relative.Split('/'))
        {
            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.Exists || Directory.Exists(current))
            {
                if (info.LinkTarget is not null || new DirectoryInfo(current).LinkTarget is not null)
                    throw new ChartsChangeException($"'{relative}' passes through a symbolic link in the charts repository; refused", permanent: true);
            }
        }
        return full;
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex ChartName();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z")]
    private static partial Regex EnvironmentName();
}
