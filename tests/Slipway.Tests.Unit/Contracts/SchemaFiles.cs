using Slipway.Contracts.Schemas;

namespace Slipway.Tests.Unit.Contracts;

/// <summary>
/// The committed schemas under docs/events. With <c>SLIPWAY_WRITE_SCHEMAS=1</c> in the environment, the
/// fixture first (re)writes them from <see cref="EventSchemas"/> and removes stale ones, so
/// <c>SLIPWAY_WRITE_SCHEMAS=1 dotnet test tests/Slipway.Tests.Unit --filter "FullyQualifiedName~Contracts"</c>
/// regenerates the contract after a change to an event record.
/// </summary>
public sealed class SchemaFiles
{
    public const string WriteVariable = "SLIPWAY_WRITE_SCHEMAS";

    public static readonly string RegenerateHint =
        $"Regenerate the committed schemas with: {WriteVariable}=1 dotnet test tests/Slipway.Tests.Unit --filter \"FullyQualifiedName~Contracts\" " +
        "(then review the diff: a published type may only gain optional properties; anything else needs a new .vN+1 type).";

    public string RepoRoot { get; } = FindRepoRoot();

    public string Directory => Path.Combine(RepoRoot, "docs", "events");

    public bool Written { get; }

    public SchemaFiles()
    {
        if (Environment.GetEnvironmentVariable(WriteVariable) is "1" or "true")
        {
            Write();
            Written = true;
        }
    }

    public string? Read(string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    /// <summary>The schema files present on disk (file names).</summary>
    public IReadOnlyList<string> Committed() => System.IO.Directory.Exists(Directory)
        ? System.IO.Directory.GetFiles(Directory, "*" + EventSchemas.FileSuffix).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
        : [];

    private void Write()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var generated = EventSchemas.All().ToArray();
        foreach (var (fileName, json) in generated)
            File.WriteAllText(Path.Combine(Directory, fileName), json);
        foreach (var stale in Committed().Except(generated.Select(g => g.FileName)))
            File.Delete(Path.Combine(Directory, stale));
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Slipway.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Slipway.sln above {AppContext.BaseDirectory}");
    }
}
