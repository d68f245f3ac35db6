namespace Slipway.BuildConfig;

/// <summary>
/// The whole pipeline of pure steps: YAML → <see cref="BlubberConfig"/> → <see cref="ExpandedConfig"/>
/// → (policy) → <see cref="BuildPlan"/> → Dockerfile text. Every refusal is a <see cref="BlubberException"/>.
/// </summary>
public static class Blubber
{
    /// <param name="registries">The image policy on registries, checked on the compiled plan (every image pulled); null for none.</param>
    public static BuildPlan Plan(string yaml, string variant, Policy? policy = null, CompileOptions? options = null, Limits? limits = null,
        RegistryPolicy? registries = null) =>
        Run(yaml, variant, policy, options, limits, registries).Plan;

    public static string Dockerfile(string yaml, string variant, Policy? policy = null, CompileOptions? options = null, Limits? limits = null,
        RegistryPolicy? registries = null) =>
        DockerfileWriter.Write(Plan(yaml, variant, policy, options, limits, registries));

    /// <summary>
    /// Everything a build needs: the Dockerfile, the plan, the pinned Blubber version (for the image label), warnings
    /// for the build log, the build args to pass and which steps need the network.
    /// </summary>
    public static CompileResult Compile(string yaml, string variant, Policy? policy = null, CompileOptions? options = null, Limits? limits = null,
        RegistryPolicy? registries = null)
    {
        var (config, plan) = Run(yaml, variant, policy, options, limits, registries);
        return new CompileResult(DockerfileWriter.Write(plan), plan, config.Syntax?.VersionText);
    }

    private static (BlubberConfig Config, BuildPlan Plan) Run(string yaml, string variant, Policy? policy, CompileOptions? options,
        Limits? limits, RegistryPolicy? registries)
    {
        var config = ConfigParser.Parse(yaml, limits);
        var expanded = Expander.Expand(config, variant);
        policy?.Enforce(expanded);
        var plan = Compiler.Compile(expanded, options);
        registries?.Enforce(plan);
        return (config, plan);
    }

    /// <summary>
    /// Lists a build context's files as the compiler's <see cref="CompileOptions.ContextFiles"/>: relative,
    /// <c>/</c>-separated, with the context's <c>.dockerignore</c> applied (blubber-v4 §8). Symlinks are not followed
    /// but listed, and each must resolve inside the context. Refused with <see cref="UnsafePathException"/>, naming the
    /// path: a link that leaves the context, a hard link, a fifo, socket or device, a name with control characters,
    /// more than <paramref name="maxFiles"/> files.
    /// </summary>
    /// <param name="ignoreOverride">.dockerignore text used instead of the context's own (PipelineLib's <c>build.excludes</c>); null reads the file.</param>
    public static IReadOnlyList<string> ListContext(string directory, int maxFiles = 100_000, string? ignoreOverride = null)
    {
        const string what = "the build context";
        var ignoreText = ignoreOverride ?? ContainedTree.ReadText(directory, ".dockerignore", Limits.Default.MaxFileBytes, what);
        var ignore = ignoreText is null ? new DockerIgnore([]) : DockerIgnore.FromFileText(ignoreText);
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push(directory);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                var rel = Path.GetRelativePath(directory, entry.FullName).Replace('\\', '/');
                if (rel.Any(char.IsControl)) throw new UnsafePathException(rel, "the name contains control characters");
                var kind = ContainedTree.Inspect(entry.FullName);
                switch (kind.Kind)
                {
                    case TreeEntryKind.Directory:
                        pending.Push(entry.FullName);
                        continue;
                    case TreeEntryKind.Missing:
                        continue; // gone since it was listed
                    case TreeEntryKind.File:
                        if (ignore.Excludes(rel)) continue;
                        if (kind.Links > 1) throw new UnsafePathException(rel, ContainedTree.HardLinkMessage);
                        break;
                    case TreeEntryKind.SymbolicLink:
                        ContainedTree.Resolve(directory, rel, what); // throws when it leaves the context, ignored or not
                        if (ignore.Excludes(rel)) continue;
                        break;
                    default:
                        // Even an ignored one: reading a fifo blocks, and none belongs in a repository.
                        throw new UnsafePathException(rel, $"is a {ContainedTree.Describe(kind.Kind)}; a build context may hold only files, directories and symbolic links");
                }
                result.Add(rel);
                if (result.Count > maxFiles)
                    throw new UnsafePathException(rel, $"the build context has more than {maxFiles} files");
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }
}
