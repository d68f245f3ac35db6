using Slipway.Deployer.Config;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>The values file format: round trip, strictness, sizes.</summary>
public sealed class ServiceValuesTests
{
    private const string Image = "127.0.0.1:5000/wikimedia/hello@sha256:1111111111111111111111111111111111111111111111111111111111111111";

    [Fact]
    public void Values_survive_a_round_trip_and_equal_values_give_equal_bytes()
    {
        var values = new ServiceValues
        {
            Image = Image, Replicas = 2, Port = 9000,
            Resources = new ResourceValues { Cpus = 1.5, Memory = "1Gi" },
            Env = new Dictionary<string, string> { ["B"] = "2", ["A"] = "multi\nline", ["C"] = "0123" },
        };
        var yaml = ServiceValuesYaml.Serialize(values);
        var reordered = values with { Env = new Dictionary<string, string> { ["C"] = "0123", ["A"] = "multi\nline", ["B"] = "2" } };

        Assert.Equal(values, ServiceValuesYaml.Deserialize(yaml, "test.yaml"));
        Assert.Equal(yaml, ServiceValuesYaml.Serialize(reordered));
        var spec = values.ToDeploymentSpec("staging", "hello");
        Assert.Equal(1024L * 1024 * 1024, spec.MemoryBytes);
        Assert.Equal(1.5, spec.Cpus);
        Assert.Equal(["A", "B", "C"], spec.Env.Keys);
    }

    [Theory]
    [InlineData("image: x@sha256:1111111111111111111111111111111111111111111111111111111111111111\nreplica: 3\n", "replica")]
    [InlineData("image: 127.0.0.1:5000/x:latest\n", "pinned by digest")]
    [InlineData("replicas: 3\n", "'image' is required")]
    [InlineData("image: x@sha256:1111111111111111111111111111111111111111111111111111111111111111\nreplicas: 0\n", "replicas 0")]
    [InlineData("image: x@sha256:1111111111111111111111111111111111111111111111111111111111111111\nprobes: {readiness: 'no-slash'}\n", "probes.readiness")]
    [InlineData("image: x@sha256:1111111111111111111111111111111111111111111111111111111111111111\nresources: {memory: lots}\n", "resources.memory")]
    [InlineData("image: [unclosed\n", "invalid values YAML")]
    public void A_bad_values_file_is_refused_with_a_clear_message(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigRegistryException>(() => ServiceValuesYaml.Deserialize(yaml, "environments/staging/hello.yaml"));
        Assert.StartsWith("environments/staging/hello.yaml: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("256Mi", 268_435_456L)]
    [InlineData("1G", 1_000_000_000L)]
    [InlineData("0.5Gi", 536_870_912L)]
    [InlineData("10000000", 10_000_000L)]
    [InlineData("1Mi", null)] // below Docker's minimum
    [InlineData("-5Mi", null)]
    [InlineData("12Xi", null)]
    public void Memory_sizes_parse_like_kubernetes_quantities(string text, long? bytes) => Assert.Equal(bytes, ServiceValues.ParseMemory(text));
}
