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
        var image = Require("Slipway__BaseImage");
        var name = TestInfrastructure.UniqueName("slipway-infra-test-");
        var info = new ProcessStartInfo("docker", ["run", "--rm", "--name", name, "--network", "none", image, "cat", "/etc/debian_version"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var docker = Process.Start(info)!;
        var output = await docker.StandardOutput.ReadToEndAsync();
        var error = await docker.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await docker.WaitForExitAsync(cts.Token);
        Assert.True(docker.ExitCode == 0, error);
        Assert.StartsWith("12.", output.Trim());
    }
}
