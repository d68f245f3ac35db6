using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

public class PolicyTests
{
    // blubber-v4 §10: policy.example.yaml.
    private const string Example = """
        enforcements:
          - path: base
            rule: oneof=docker-registry.wikimedia.org/stretch:latest docker-registry.wikimedia.org/jessie:latest
          - path: variants.production.runs.insecurely
            rule: isfalse
          - path: variants.test.base
            rule: omitempty,startswith=docker-registry.wikimedia.org
          - path: variants.production.base
            rule: omitempty,startswith=docker-registry.wikimedia.org
        """;

    [Fact]
    public void Example_policy_passes_a_conforming_config()
    {
        const string yaml = """
            version: v4
            base: docker-registry.wikimedia.org/stretch:latest
            variants:
              test: {}
              production: { runs: { insecurely: false } }
            """;
        Assert.StartsWith("FROM docker-registry.wikimedia.org/stretch:latest AS production", T.Df(yaml, "production", Policy.Parse(Example)));
    }

    [Fact]
    public void Base_inherited_through_includes_is_caught()
    {
        const string yaml = """
            version: v4
            base: docker-registry.wikimedia.org/stretch:latest
            variants:
              evil: { base: docker.io/evil/image:1 }
              production: { includes: [evil] }
            """;
        var e = T.Refused(yaml, "production", Policy.Parse(Example));
        Assert.Equal("value: \"docker.io/evil/image:1\", for \"variants.production.base\" violates policy rule \"omitempty,startswith=docker-registry.wikimedia.org\"", e.Message);
        Assert.Equal(6, e.ExitCode);
    }

    [Fact]
    public void Base_of_a_copies_dependency_is_caught()
    {
        var policy = Policy.Parse("enforcements:\n  - path: variants.pred.base\n    rule: startswith=127.0.0.1:5000/\n");
        const string yaml = "version: v4\nbase: 127.0.0.1:5000/slipway/debian:bookworm\nvariants:\n  pred: { base: debian:bookworm }\n  production: { copies: [pred] }\n";
        Assert.Equal("value: \"debian:bookworm\", for \"variants.pred.base\" violates policy rule \"startswith=127.0.0.1:5000/\"",
            T.Refused(yaml, "production", policy).Message);
    }

    [Fact]
    public void Insecurely_flag_and_unresolved_paths()
    {
        var policy = Policy.Parse(Example);
        const string yaml = "version: v4\nbase: docker-registry.wikimedia.org/jessie:latest\nvariants:\n  production: { runs: { insecurely: true } }\n";
        Assert.Equal("value: \"true\", for \"variants.production.runs.insecurely\" violates policy rule \"isfalse\"",
            T.Refused(yaml, "production", policy).Message);
        // variants.test does not exist: the path resolves to nothing and is skipped.
        Assert.Contains("AS production", T.Df(yaml.Replace("insecurely: true", "insecurely: false"), "production", policy));
    }

    [Fact]
    public void Top_level_base_default_violates_oneof()
    {
        var e = T.Refused("version: v4\nbase: debian:bookworm\nvariants:\n  test: {}\n", "test", Policy.Parse(Example));
        Assert.Equal("value: \"debian:bookworm\", for \"base\" violates policy rule \"oneof=docker-registry.wikimedia.org/stretch:latest docker-registry.wikimedia.org/jessie:latest\"", e.Message);
    }

    [Fact]
    public void Or_alternatives_and_defaults_are_visible()
    {
        var policy = Policy.Parse("enforcements:\n  - path: variants.test.runs.uid\n    rule: ne=0\n  - path: variants.test.runs.as\n    rule: eq=runuser|eq=app\n");
        Assert.Contains("AS test", T.Df("version: v4\nbase: debian:bookworm\nvariants:\n  test: {}\n", "test", policy));
        Assert.Equal("value: \"other\", for \"variants.test.runs.as\" violates policy rule \"eq=runuser|eq=app\"",
            T.Refused("version: v4\nbase: debian:bookworm\nvariants:\n  test: { runs: { as: other } }\n", "test", policy).Message);
    }

    [Theory]
    [InlineData("enforcements:\n  - path: base\n    rule: regex=.*\n", "cannot load policy: line 2: unsupported rule \"regex=.*\" (supported: required, omitempty, eq, ne, oneof, startswith, endswith, contains, excludes, isfalse, istrue, registry)")]
    [InlineData("enforcements:\n  - path: base\n", "cannot load policy: line 2: an enforcement needs both path and rule")]
    [InlineData("rules: []\n", "cannot load policy: unknown field \"rules\"")]
    [InlineData("enforcements: [\n", "cannot load policy: While parsing a node, did not find expected node content.")]
    public void Bad_policy_files(string policy, string expected)
    {
        var e = Assert.Throws<BlubberException>(() => Policy.Parse(policy));
        Assert.Equal(expected, e.Message);
        Assert.Equal(5, e.ExitCode);
    }
}
