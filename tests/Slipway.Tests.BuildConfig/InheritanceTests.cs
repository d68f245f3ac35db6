using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

public class InheritanceTests
{
    private static ExpandedVariant Expand(string yaml, string variant) => Expander.Expand(ConfigParser.Parse(yaml), variant).Target;

    [Fact]
    public void Partial_top_level_lives_keeps_the_other_defaults()
    {
        var v = Expand("version: v4\nlives: { uid: 1234 }\nvariants:\n  test: {}\n", "test");
        Assert.Equal(new LivesConfig("/srv/app", "somebody", 1234, 65533), v.Common.Lives);
        Assert.Equal("runuser", v.Common.Runs.As);
        Assert.Equal(900u, v.Common.Runs.Uid);
    }

    [Fact]
    public void Includes_order_is_depth_first_leaves_first()
    {
        // blubber-v4 §4.1 example: [varF, varD, varE, varB, varC]; the last to set entrypoint wins.
        const string yaml = """
            version: v4
            variants:
              varA: { includes: [varB, varC] }
              varB: { includes: [varD, varE], entrypoint: [B] }
              varC: { entrypoint: [C] }
              varD: { includes: [varF], entrypoint: [D] }
              varE: { entrypoint: [E] }
              varF: { entrypoint: [F] }
            """;
        Assert.Equal(["varF", "varD", "varE", "varB", "varC", "varA"],
            Expander.GraphOrder("varA", n => ConfigParser.Parse(yaml).Variant(n)!.Includes.Select(i => i.Value), _ => true, "includes"));
        Assert.Equal(["C"], Expand(yaml, "varA").Common.Entrypoint);
    }

    [Fact]
    public void Scalars_override_only_when_non_empty()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            lives: { in: /srv/top, uid: 1000 }
            variants:
              test:
                base: ~
                lives: { uid: 0, as: owner }
            """;
        var v = Expand(yaml, "test");
        Assert.Equal("debian:bookworm", v.Common.Base);
        Assert.Equal(new LivesConfig("/srv/top", "owner", 1000, 65533), v.Common.Lives);
    }

    [Fact]
    public void Maps_union_lists_append_entrypoint_replaces()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            arguments: { VER: "1", KEEP: k }
            apt: { packages: [curl] }
            runs: { environment: { AA: top, BB: top } }
            entrypoint: [top]
            variants:
              base-v:
                apt: { packages: [curl, git] }
                runs: { environment: { BB: base } }
              test:
                includes: [base-v]
                arguments: { VER: "2" }
                apt: { packages: { bookworm-backports: [jq] } }
                runs: { environment: { CC: test }, insecurely: true }
            """;
        var c = Expand(yaml, "test").Common;
        Assert.Equal([new("VER", "2"), new KeyValuePair<string, string>("KEEP", "k")], c.Arguments);
        Assert.Equal(["curl", "curl", "git"], c.Apt.Packages.Single(p => p.Key == "default").Value);
        Assert.Equal(["jq"], c.Apt.Packages.Single(p => p.Key == "bookworm-backports").Value);
        Assert.Equal([new("AA", "top"), new("BB", "base"), new KeyValuePair<string, string>("CC", "test")], c.Runs.Environment);
        Assert.True(c.Runs.Insecurely);
        Assert.Equal(["top"], c.Entrypoint);
    }

    [Fact]
    public void Builders_merge_as_blubber_does()
    {
        // blubber-v4 §3.4 test example: top [node, python, php] + variant [python, node, custom] = [php, python, node, custom].
        const string yaml = """
            version: v4
            base: debian:bookworm
            builders:
              - node: { requirements: [package.json], env: test }
              - python: { version: python3, requirements: [requirements.txt] }
              - php: { requirements: [composer.json] }
            variants:
              test:
                builders:
                  - python: { requirements: [requirements-test.txt] }
                  - node: { env: production }
                  - custom: { command: [make] }
            """;
        var builders = Expand(yaml, "test").Common.Builders!;
        Assert.Equal(["php", "python", "node", "custom"], builders.Select(b => b.Kind));
        Assert.Equal("python3", builders[1].Python!.Version);
        Assert.Equal("requirements-test.txt", builders[1].Python!.Requirements!.Single().Source);
        Assert.Equal("production", builders[2].Node!.Env);
        Assert.Equal("package.json", builders[2].Node!.Requirements!.Single().Source);
    }

    [Fact]
    public void Copies_merge_additively_later_duplicate_keeps_its_position()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              one: { copies: [local, two] }
              two: {}
              test: { includes: [one], copies: [local] }
            """;
        Assert.Equal(["two", "local"], Expand(yaml, "test").Copies.Select(a => a.From));
    }

    [Fact]
    public void Inherited_copies_create_stage_dependencies()
    {
        // T289880: copies inherited through includes count in the copies graph.
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              build: {}
              prep: { copies: [build] }
              production: { includes: [prep] }
            """;
        Assert.Equal(["build", "production"], Expander.Expand(ConfigParser.Parse(yaml), "production").Stages.Select(s => s.Name));
    }

    [Fact]
    public void Standalone_custom_builder_fields_replace_per_field()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            builder: { command: [make, all], requirements: [Makefile] }
            variants:
              test: { builder: { command: "make test" } }
            """;
        var lines = T.Lines(yaml, "test");
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID [\"Makefile\", \"./\"]", lines);
        Assert.Contains("RUN make test", lines);
    }
}
