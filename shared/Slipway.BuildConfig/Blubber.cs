namespace Slipway.BuildConfig;

/// <summary>
/// The whole pipeline of pure steps: YAML → <see cref="BlubberConfig"/> → <see cref="ExpandedConfig"/>
/// → (policy) → <see cref="BuildPlan"/> → Dockerfile text. Every refusal is a <see cref="BlubberException"/>.
/// </summary>
public static class Blubber
{
    public static BuildPlan Plan(string yaml, string variant, Policy? policy = null, CompileOptions? options = null, Limits? limits = null)
    {
        var config = ConfigParser.Parse(yaml, limits);
        var expanded = Expander.Expand(config, variant);
        policy?.Enforce(expanded);
        return Compiler.Compile(expanded, options);
    }

    public static string Dockerfile(string yaml, string variant, Policy? policy = null, CompileOptions? options = null, Limits? limits = null) =>
        DockerfileWriter.Write(Plan(yaml, variant, policy, options, limits));

    /// <summary>
    /// Lists a build context's files as the compiler's <see cref="CompileOptions.ContextFiles"/>: relative,
    /// <c>/</c>-separated, with the context's <c>.dockerignore</c> applied (blubber-v4 §8). Symlinks are not followed.
    /// </summary>
    public static IReadOnlyList<string> ListContext(string directory, int maxFiles = 100_000)
    {
        var ignorePath = Path.Combine(directory, ".dockerignore");
        var ignore = File.Exists(ignorePath) ? DockerIgnore.FromFileText(File.ReadAllText(ignorePath)) : new DockerIgnore([]);
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push(directory);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                var rel = Path.GetRelativePath(directory, entry.FullName).Replace('\\', '/');
                if (ignore.Excludes(rel) && entry is FileInfo) continue;
                if (entry is DirectoryInfo d && d.LinkTarget is null) pending.Push(d.FullName);
                else if (entry is FileInfo || entry.LinkTarget is not null)
                {
                    result.Add(rel);
                    if (result.Count > maxFiles)
                        throw new BlubberException(BlubberErrorKind.Expansion, $"build context has more than {maxFiles} files");
                }
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }
}
