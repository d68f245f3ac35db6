using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Confluent.Kafka;
using Npgsql;
using Slipway.Contracts;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Embedded;

/// <summary>The embedded infrastructure `./slipway test` started, checked from outside like any client would.</summary>
public sealed class EmbeddedInfrastructureTests
{
    private static string Require(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
        ? v : throw new InvalidOperationException($"{name} is not set: run through `./slipway test`");

    /// <summary>Runs <paramref name="command"/> in a throwaway container of the base image, without network; its stdout (exit 0 asserted).</summary>
    private static async Task<string> RunInBaseImageAsync(params string[] command)
    {
        var info = new ProcessStartInfo("docker", ["run", "--rm", "--name", TestInfrastructure.UniqueName("slipway-infra-test-"), "--network", "none",
            Require("Slipway__BaseImage"), .. command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var docker = Process.Start(info)!;
        var output = await docker.StandardOutput.ReadToEndAsync();
        var error = await docker.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await docker.WaitForExitAsync(cts.Token);
        Assert.True(docker.ExitCode == 0, error);
        return output;
    }

    [Fact]
    public void Kafka_is_a_three_broker_cluster_with_the_standard_topics_and_four_partitions()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = TestInfrastructure.KafkaBootstrap }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.Equal(3, metadata.Brokers.Count);
        Assert.All(metadata.Brokers, b => Assert.Equal("127.0.0.1", b.Host));
        foreach (var topic in new[] { Topics.GerritEvents, Topics.PipelineEvents, Topics.DeadLetter })
            Assert.Equal(4, metadata.Topics.Single(t => t.Topic == topic).Partitions.Count);
    }

    [Fact]
    public async Task Postgres_listens_on_loopback_with_the_slipway_database()
    {
        var builder = new NpgsqlConnectionStringBuilder(TestInfrastructure.PostgresConnectionString);
        Assert.Equal("127.0.0.1", builder.Host);
        await using var conn = new NpgsqlConnection(TestInfrastructure.PostgresConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT current_database(), current_setting('listen_addresses')", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("slipway", reader.GetString(0));
        Assert.Equal("127.0.0.1", reader.GetString(1));
    }

    [Fact]
    public async Task The_registry_requires_its_password_and_holds_the_base_image()
    {
        var url = Require("Registry__Url");
        Assert.StartsWith("127.0.0.1:", url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://{url}/v2/_catalog")).StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Require("Registry__Username")}:{Require("Registry__Password")}")));
        var catalog = await http.GetStringAsync($"http://{url}/v2/_catalog");
        Assert.Contains("\"slipway/debian\"", catalog);
        var tags = await http.GetStringAsync($"http://{url}/v2/slipway/debian/tags/list");
        Assert.Contains("\"bookworm\"", tags);
    }

    [Fact]
    public async Task The_docker_engine_runs_the_base_image_without_network_as_a_debian_bookworm()
    {
        var output = await RunInBaseImageAsync("cat", "/etc/debian_version");
        Assert.StartsWith("12.", output.Trim());
    }

    [Fact]
    public async Task The_base_image_trusts_exactly_the_certificate_authorities_the_machine_adds()
    {
        // An install step reaches the package registries as the machine does, also through a TLS-inspecting proxy: the
        // machine's own CAs (/usr/local/share/ca-certificates/*.crt) are in the image where Debian keeps them, and in the
        // bundle NODE_EXTRA_CA_CERTS names. A machine that adds none gives an image that adds none.
        const string local = "/usr/local/share/ca-certificates";
        var machine = Directory.Exists(local)
            ? Directory.GetFiles(local, "*.crt", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList()
            : [];
        var script = "for f in /usr/local/share/ca-certificates/slipway-machine-*.crt; do [ -e \"$f\" ] && cat \"$f\" && echo '--8<--'; done; " +
            "echo \"NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS\"; [ -n \"$NODE_EXTRA_CA_CERTS\" ] && cat \"$NODE_EXTRA_CA_CERTS\"; true";
        var output = await RunInBaseImageAsync("sh", "-c", script);

        var marker = output.IndexOf("NODE_EXTRA_CA_CERTS=", StringComparison.Ordinal);
        var copies = output[..marker].Split("--8<--\n", StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(machine.Select(c => c.TrimEnd()), copies.Select(c => c.TrimEnd()));
        var rest = output[marker..];
        if (machine.Count == 0)
            Assert.Equal("NODE_EXTRA_CA_CERTS=", rest.Trim());
        else
            Assert.Equal("NODE_EXTRA_CA_CERTS=/usr/local/share/slipway/machine-ca-bundle.pem\n" + string.Concat(machine.Select(c => c.TrimEnd() + "\n")), rest);
    }
}
