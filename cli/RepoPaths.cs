namespace Slipway.Cli;

/// <summary>Finds the repository this CLI belongs to, for default paths under it.</summary>
internal static class RepoPaths
{
    private const string Marker = "Slipway.sln";

    /// <summary>
    /// The repo above the running slipway.dll (the wrapper builds into <repo>/.slipway/cli),
    /// else the one above the current directory, else the current directory.
    /// </summary>
    public static string Root() =>
        FindUp(AppContext.BaseDirectory) ?? FindUp(Environment.CurrentDirectory) ?? Environment.CurrentDirectory;

    public static string DefaultStateDir() => Path.Combine(Root(), ".slipway", "infra");

    private static string? FindUp(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, Marker))) return dir.FullName;
        return null;
    }
}
