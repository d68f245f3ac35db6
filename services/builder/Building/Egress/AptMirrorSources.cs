namespace Slipway.Builder.Building.Egress;

/// <summary>The http(s) mirror URIs in a machine's apt sources: one-line <c>.list</c> files and deb822 <c>.sources</c>.</summary>
public static class AptMirrorSources
{
    private const long MaxFileBytes = 1024 * 1024;

    public static IReadOnlyList<string> Read(string aptConfigDir)
    {
        var files = new List<string>();
        var main = Path.Combine(aptConfigDir, "sources.list");
        if (File.Exists(main)) files.Add(main);
        var dir = Path.Combine(aptConfigDir, "sources.list.d");
        if (Directory.Exists(dir))
            files.AddRange(Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".list", StringComparison.Ordinal) || f.EndsWith(".sources", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var uris = new List<string>();
        foreach (var file in files)
        {
            if (new FileInfo(file).Length > MaxFileBytes) continue;
            var deb822 = file.EndsWith(".sources", StringComparison.Ordinal);
            foreach (var raw in File.ReadLines(file))
            {
                var line = raw.Split('#', 2)[0].Trim();
                if (line.Length == 0) continue;
                if (deb822)
                {
                    if (line.StartsWith("URIs:", StringComparison.OrdinalIgnoreCase))
                        uris.AddRange(line[5..].Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries));
                }
                else if (line.StartsWith("deb", StringComparison.Ordinal))
                {
                    // deb [options] uri suite [components]: the options are in brackets.
                    var rest = line.Contains(']') && line.IndexOf('[') is > 0 and var open && open < line.IndexOf(']')
                        ? line[(line.IndexOf(']') + 1)..] : line[(line.IndexOf(' ') + 1)..];
                    if (rest.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries) is [var uri, ..]) uris.Add(uri);
                }
            }
        }
        return uris.Where(u => u.StartsWith("http://", StringComparison.Ordinal) || u.StartsWith("https://", StringComparison.Ordinal)).Distinct().ToList();
    }
}
