using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>
/// The default image policy (every image the compiled build pulls comes from an allowed registry) and the policy
/// file's <c>*</c> paths and <c>registry=</c> rule.
/// </summary>
public class RegistryPolicyTests
{
    private static readonly RegistryPolicy Own = new(["registry.example.org:5000"]);

    private static string Df(string yaml, string variant, RegistryPolicy? registries = null, Policy? policy = null) =>
        Blubber.Dockerfile(yaml, variant, policy, T.Options, null, registries ?? Own);

    private static BlubberException Refused(string yaml, string variant, RegistryPolicy? registries = null, Policy? policy = null) =>
        Assert.Throws<BlubberException>(() => Df(yaml, variant, registries, policy));

    [Fact]
    public void Images_from_the_allowed_registry_and_scratch_pass()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              build: {}
              production:
                copies:
                  - from: build
                    source: /srv/app/out
                    destination: out
                  - from: registry.example.org:5000/tools:1
                    source: /usr/bin/tool
                    destination: tool
              empty:
                base: ~
            """;
        Assert.Contains("FROM registry.example.org:5000/debian:bookworm AS production", Df(yaml, "production"));
        Assert.Contains("--from=registry.example.org:5000/tools:1 [\"/usr/bin/tool\", \"tool\"]", Df(yaml, "production"));
    }

    [Theory]
    [InlineData("docker.io/library/debian:bookworm", "docker.io")]
    [InlineData("debian:bookworm", "docker.io")]
    [InlineData("registry.example.org.evil.com:5000/debian", "registry.example.org.evil.com:5000")]
    [InlineData("registry.example.org:5001/debian", "registry.example.org:5001")]
    [InlineData("registry.example.org/debian", "registry.example.org")]
    [InlineData("evil.com/registry.example.org/debian", "evil.com")]
    public void A_base_from_another_registry_is_refused_naming_it(string image, string registry)
    {
        var e = Refused($"version: v4\nbase: {image}\nvariants:\n  production: {{}}\n", "production");
        Assert.Equal(BlubberErrorKind.PolicyViolation, e.Kind);
        Assert.Equal($"image \"{image}\" comes from registry \"{registry}\", which is not allowed (allowed registries: registry.example.org:5000) (at variants.production.base)", e.Message);
    }

    [Fact]
    public void A_look_alike_host_that_is_no_reference_at_all_is_refused()
    {
        // Blubber's own validation already refuses it as a base; the policy never sees it pass.
        var e = Assert.Throws<BlubberException>(() => Df("version: v4\nbase: registry.example.org:5000@evil/x\nvariants:\n  production: {}\n", "production"));
        Assert.Contains("is not a valid image reference", e.Message);
    }

    [Fact]
    public void The_base_of_a_copies_dependency_is_checked_too()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              build:
                base: docker.io/library/golang:1
              production:
                copies: [{ from: build, source: /srv/app/out, destination: out }]
            """;
        Assert.Equal("image \"docker.io/library/golang:1\" comes from registry \"docker.io\", which is not allowed (allowed registries: registry.example.org:5000) (at variants.build.base)",
            Refused(yaml, "production").Message);
    }

    [Fact]
    public void An_image_named_in_copies_from_is_checked()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              production:
                copies: [{ from: "registry.example.org.evil.com:5000/tools:1", source: /etc/shadow, destination: x }]
            """;
        Assert.Equal("image \"registry.example.org.evil.com:5000/tools:1\" comes from registry \"registry.example.org.evil.com:5000\", which is not allowed (allowed registries: registry.example.org:5000) (at variants.production.copies)",
            Refused(yaml, "production").Message);
    }

    [Fact]
    public void An_image_named_in_builder_requirements_is_checked()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              test:
                builder:
                  command: [make]
                  requirements: [{ from: "quay.io/evil/x:1", source: /x, destination: x }]
            """;
        Assert.StartsWith("image \"quay.io/evil/x:1\" comes from registry \"quay.io\"", Refused(yaml, "test").Message);
    }

    [Fact]
    public void No_allowed_registry_allows_only_scratch()
    {
        var none = new RegistryPolicy([]);
        Assert.Contains("FROM scratch AS empty", Df("version: v4\nvariants:\n  empty: {}\n", "empty", none));
        Assert.Equal("image \"registry.example.org:5000/debian\" comes from registry \"registry.example.org:5000\", which is not allowed (allowed registries: none: only scratch images may be built) (at variants.test.base)",
            Refused("version: v4\nbase: registry.example.org:5000/debian\nvariants:\n  test: {}\n", "test", none).Message);
    }

    [Fact]
    public void A_bad_allowed_registry_is_a_policy_load_error()
    {
        var e = Assert.Throws<BlubberException>(() => new RegistryPolicy(["registry.example.org/path"]));
        Assert.Equal(BlubberErrorKind.PolicyLoad, e.Kind);
    }

    private const string WildcardPolicy = """
        enforcements:
          - path: variants.*.base
            rule: omitempty,registry=registry.example.org:5000
          - path: variants.*.copies.*.from
            rule: registry=registry.example.org:5000
          - path: variants.*.runs.insecurely
            rule: isfalse
        """;

    [Fact]
    public void A_star_path_applies_a_rule_to_every_variant_and_names_the_one_that_fails()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              test: {}
              staging: { base: "registry.example.org.evil.com:5000/debian" }
            """;
        var e = Refused(yaml, "test", new RegistryPolicy(["registry.example.org:5000", "registry.example.org.evil.com:5000"]), Policy.Parse(WildcardPolicy));
        Assert.Equal("value: \"registry.example.org.evil.com:5000/debian\", for \"variants.staging.base\" violates policy rule \"omitempty,registry=registry.example.org:5000\"", e.Message);
    }

    [Fact]
    public void A_star_path_reaches_every_copies_item_and_local_and_variants_are_not_images()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              build: {}
              production:
                copies:
                  - { from: local }
                  - { from: build, source: /srv/app/out, destination: out }
                  - { from: "docker.io/library/busybox:1", source: /bin/busybox, destination: bb }
            """;
        var permissive = new RegistryPolicy(["registry.example.org:5000", "docker.io"]);
        var e = Refused(yaml, "production", permissive, Policy.Parse(WildcardPolicy));
        Assert.Equal("value: \"docker.io/library/busybox:1\", for \"variants.production.copies.2.from\" violates policy rule \"registry=registry.example.org:5000\"", e.Message);

        var fine = yaml.Replace("docker.io/library/busybox:1", "registry.example.org:5000/busybox:1");
        Assert.Contains("--from=registry.example.org:5000/busybox:1", Df(fine, "production", permissive, Policy.Parse(WildcardPolicy)));
    }

    [Fact]
    public void A_star_rule_on_flags_covers_every_variant()
    {
        const string yaml = """
            version: v4
            base: registry.example.org:5000/debian:bookworm
            variants:
              test: {}
              production: { runs: { insecurely: true } }
            """;
        Assert.Equal("value: \"true\", for \"variants.production.runs.insecurely\" violates policy rule \"isfalse\"",
            Refused(yaml, "test", policy: Policy.Parse(WildcardPolicy)).Message);
    }

    [Theory]
    [InlineData("enforcements:\n  - path: base\n    rule: registry\n")]
    [InlineData("enforcements:\n  - path: base\n    rule: registry=\n")]
    [InlineData("enforcements:\n  - path: base\n    rule: registry=a/b\n")]
    public void A_registry_rule_needs_hosts(string policy)
    {
        var e = Assert.Throws<BlubberException>(() => Policy.Parse(policy));
        Assert.Equal(BlubberErrorKind.PolicyLoad, e.Kind);
        Assert.Contains("needs registry=HOST[:PORT]", e.Message);
    }
}
