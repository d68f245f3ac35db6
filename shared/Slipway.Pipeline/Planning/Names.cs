using System.Text;

namespace Slipway.Pipeline.Planning;

/// <summary>Names derived from the Gerrit project: its short name, and a service name fit for a release or DNS label.</summary>
public static class Names
{
    /// <summary>The last path segment of the project, as PipelineLib's <c>setup.projectShortName</c>.</summary>
    public static string ProjectShortName(string project)
    {
        var trimmed = project.Trim('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    /// <summary>Lower case, runs of other characters as one <c>-</c>, matching <c>^[a-z0-9][a-z0-9-]*$</c>, at most 63 characters.</summary>
    public static string Service(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        var s = sb.ToString();
        if (s.Length > 63) s = s[..63];
        s = s.TrimEnd('-');
        return s.Length == 0 ? "service" : s;
    }

    /// <summary>PipelineLib's image name and tag sanitizing for publish: lower case, <c>/</c> becomes <c>-</c>.</summary>
    public static string ImagePart(string value) => value.ToLowerInvariant().Replace('/', '-');
}
