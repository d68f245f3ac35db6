using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Configuration;

/// <summary>Each service, started as its own process with one required key missing or invalid, stops at once naming the key.</summary>
public sealed class StartupConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("slipway-config-").FullName;

    private Dictionary<string, string?> ValidEnvironment()
    {
        var key = Path.Combine(_dir, "id_ed25519");
        var knownHosts = Path.Combine(_dir, "known_hosts");
        File.WriteAllText(key, "not read before start-up validation");
        File.WriteAllText(knownHosts, "");
        return new Dictionary<string, string?>
        {
            // Valid syntax, nothing listening: validation must fail before any connection is tried.
            ["Kafka__BootstrapServers"] = "127.0.0.1:1",
            ["Postgres__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=slipway",
            ["Registry__Url"] = "127.0.0.1:5000",
            ["Registry__Username"] = "slipway",
            ["Registry__Password"] = "secret",
            ["Gerrit__Url"] = "http://127.0.0.1:8080",
            ["Gerrit__HttpUser"] = "slipway-bot",
            ["Gerrit__HttpPassword"] = "secret",
            ["Gerrit__Ssh__Url"] = "ssh://slipway-bot@127.0.0.1:29418",
            ["Gerrit__Ssh__PrivateKeyPath"] = key,
            ["Gerrit__Ssh__KnownHostsPath"] = knownHosts,
        };
    }

    public static TheoryData<string, string, string, string?, string> Cases => new()
    {
        { "builder", "Slipway.Builder", "Kafka:BootstrapServers", null, "builder: configuration error: Kafka:BootstrapServers is required (host:port[,host:port...])" },
        { "builder", "Slipway.Builder", "Kafka:BootstrapServers", "no-port", "builder: configuration error: Kafka:BootstrapServers has an invalid entry 'no-port' (want host:port)" },
        // A credential in a bad URL is not echoed (the test also asserts "secret" appears nowhere in the output).
        { "builder", "Slipway.Builder", "Builder:GitUrl", "gopher://reader:secret@git.example.org/r", "builder: configuration error: Builder:GitUrl 'gopher://***@git.example.org/r' is invalid (want http(s)://, ssh:// or file:// URL)" },
        { "tester", "Slipway.Tester", "Postgres:ConnectionString", null, "tester: configuration error: Postgres:ConnectionString is required (e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=slipway)" },
        { "tester", "Slipway.Tester", "Docker:Endpoint", "ftp://x", "tester: configuration error: Docker:Endpoint 'ftp://x' is invalid (want unix:///path/docker.sock or tcp://host:port)" },
        { "builder", "Slipway.Builder", "Postgres:Schema", "Robert'); DROP", "builder: configuration error: Postgres:Schema 'Robert'); DROP' is invalid (lower-case letters, digits and '_', at most 63)" },
        { "deployer", "Slipway.Deployer", "Kafka:TopicPrefix", "bad prefix!", "deployer: configuration error: Kafka:TopicPrefix may contain only ASCII letters, digits, '.', '_' and '-'" },
        { "publisher", "Slipway.Publisher", "Registry:Url", null, "publisher: configuration error: Registry:Url is required (e.g. 127.0.0.1:5000)" },
        { "publisher", "Slipway.Publisher", "Registry:Username", null, "publisher: configuration error: Registry:Username is required" },
        { "publisher", "Slipway.Publisher", "Registry:Password", null, "publisher: configuration error: Registry:Password is required" },
        { "reporter", "Slipway.Reporter", "Gerrit:Url", null, "reporter: configuration error: Gerrit:Url is required (e.g. https://gerrit.example.org)" },
        { "reporter", "Slipway.Reporter", "Gerrit:HttpUser", null, "reporter: configuration error: Gerrit:HttpUser is required" },
        { "reporter", "Slipway.Reporter", "Gerrit:HttpPassword", null, "reporter: configuration error: Gerrit:HttpPassword is required" },
        { "gerrit-gateway", "Slipway.GerritGateway", "Gerrit:Ssh:Url", null, "gerrit-gateway: configuration error: Gerrit:Ssh:Url is required (e.g. ssh://bot@gerrit.example.org:29418)" },
        { "gerrit-gateway", "Slipway.GerritGateway", "Gerrit:Ssh:PrivateKeyPath", null, "gerrit-gateway: configuration error: Gerrit:Ssh:PrivateKeyPath is required" },
        { "gerrit-gateway", "Slipway.GerritGateway", "Gerrit:Ssh:KnownHostsPath", null, "gerrit-gateway: configuration error: Gerrit:Ssh:KnownHostsPath is required (the server's host key is always verified)" },
        { "builder", "Slipway.Builder", "Retention:Window", "12:00:00", "builder: configuration error: Retention:Window must be between 1.00:00:00 (one day, longer than any redelivery) and 3650.00:00:00" },
        { "tester", "Slipway.Tester", "Runs:StuckAfter", "00:00:10", "tester: configuration error: Runs:StuckAfter must be between 00:01:00 and 30.00:00:00" },
        { "gerrit-gateway", "Slipway.GerritGateway", "Gerrit:Ssh:KnownHostsPath", "/nonexistent/known_hosts", "gerrit-gateway: configuration error: Gerrit:Ssh:KnownHostsPath '/nonexistent/known_hosts' does not exist" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_missing_or_invalid_key_stops_the_service_with_one_line_naming_it(string service, string assembly,
        string key, string? value, string expectedLine)
    {
        var env = ValidEnvironment();
        env[key.Replace(":", "__")] = value;
        await using var process = ServiceProcess.Start(TestInfrastructure.ProjectDll($"services/{service}", assembly), env);

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([expectedLine], lines.Where(l => l.Contains("configuration error")));
        Assert.DoesNotContain("secret", process.Output);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
