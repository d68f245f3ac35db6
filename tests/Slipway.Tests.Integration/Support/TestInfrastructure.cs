namespace Slipway.Tests.Integration.Support;

/// <summary>
/// The running embedded infrastructure, as `./slipway test` exports it (the same keys the
/// services read). Tests isolate themselves with their own topic prefix and Postgres schema.
/// </summary>
public static class TestInfrastructure
{
    public static string KafkaBootstrap => Require("Kafka__BootstrapServers");
    public static string PostgresConnectionString => Require("Postgres__ConnectionString");

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Debug or Release: whichever this test assembly was built as, so sibling outputs are found.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static string UniqueName(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 10)];

    /// <summary>Path of a built project's dll, e.g. ("dev/Slipway.Tests.ProbeService", "Slipway.Tests.ProbeService").</summary>
    public static string ProjectDll(string projectDir, string assemblyName)
    {
        var path = Path.Combine(RepoRoot, projectDir, "bin", Configuration, "net10.0", assemblyName + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is not built; build Slipway.sln first", path);
        return path;
    }

    /// <summary>A client of the test registry (its base address and credentials), to read what a publish left behind.</summary>
    public static HttpClient RegistryClient()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Require("Registry__Url")}/"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Require("Registry__Username")}:{Require("Registry__Password")}")));
        return http;
    }

    /// <summary>The tags the test registry holds for <paramref name="repository"/>, in order.</summary>
    public static async Task<IReadOnlyList<string>> RegistryTagsAsync(string repository)
    {
        using var http = RegistryClient();
        using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"v2/{repository}/tags/list"));
        return doc.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the integration tests through `./slipway test`, which starts the embedded infrastructure");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Slipway.sln"))) return dir.FullName;
        throw new InvalidOperationException("Slipway.sln not found above " + AppContext.BaseDirectory);
    }
}
