using System.Text;
using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

public class HostileTests
{
    [Fact]
    public void Alias_bomb_hits_the_node_cap()
    {
        // "Billion laughs": each level doubles ten times; YamlDotNet shares aliased nodes, the walker counts every visit.
        var sb = new StringBuilder("version: v4\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 9; i++)
            sb.Append($"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        sb.Append("variants:\n  test:\n    entrypoint: *l8\n");
        var e = T.Refused(sb.ToString());
        Assert.Equal("config too large: more than 100000 YAML nodes (after alias expansion) (line 2)", e.Message);
        Assert.Equal(2, e.ExitCode);
    }

    [Fact]
    public void Anchors_and_merge_keys_within_limits_work()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test: &common
                runs: { environment: { MODE: test } }
                entrypoint: [a]
              production:
                <<: *common
                entrypoint: [b]
            """;
        var lines = T.Lines(yaml, "production");
        Assert.Contains("ENV MODE=\"test\"", lines);
        Assert.Contains("ENTRYPOINT [\"b\"]", lines);
    }

    [Fact]
    public void Huge_file_is_refused_before_parsing()
    {
        var yaml = "version: v4\n#" + new string('x', 1024 * 1024) + "\n";
        Assert.Equal("config too large: more than 1048576 bytes", T.Refused(yaml).Message);
    }

    [Fact]
    public void Too_many_variants()
    {
        var sb = new StringBuilder("version: v4\nvariants:\n");
        for (var i = 0; i < 101; i++) sb.Append($"  var{i}: {{}}\n");
        Assert.Equal("variants: more than 100 variants (at variants, line 3)", T.Refused(sb.ToString()).Message);
    }

    [Fact]
    public void Too_many_packages()
    {
        var pkgs = string.Join(", ", Enumerable.Range(0, 501).Select(i => $"pkg{i}"));
        Assert.Equal("packages: more than 500 entries (at variants.test.apt.packages, line 3)",
            T.Refused($"version: v4\nvariants:\n  test: {{ apt: {{ packages: [{pkgs}] }} }}\n").Message);
    }

    [Fact]
    public void Overlong_string()
    {
        var yaml = $"version: v4\nvariants:\n  test:\n    entrypoint: [{new string('a', 5000)}]\n";
        Assert.Equal("entrypoint[0]: longer than 4096 characters (at variants.test.entrypoint[0], line 4)", T.Refused(yaml).Message);
    }

    [Fact]
    public void Deep_nesting()
    {
        var yaml = "version: v4\nx: " + new string('[', 40) + new string(']', 40) + "\n";
        Assert.Equal("config too deeply nested: more than 32 levels (line 2)",
            T.Refused(yaml).Message);
    }

    [Fact]
    public void Custom_limits_apply()
    {
        var limits = new Limits { MaxVariants = 1 };
        var e = T.Refused("version: v4\nvariants:\n  aaa: {}\n  bbb: {}\n", "aaa", limits: limits);
        Assert.Equal("variants: more than 1 variants (at variants, line 3)", e.Message);
    }

    [Theory]
    [InlineData("---\nversion: v4\n---\nversion: v4\n", "config must be a single YAML document")]
    [InlineData("", "config is empty")]
    [InlineData("- a\n- b\n", "config must be a YAML mapping (line 1)")]
    public void Malformed_documents(string yaml, string expected)
    {
        Assert.Equal(expected, T.Refused(yaml).Message);
    }

    // .NET's `$` also matches before a final line break (Go's, which Blubber's rules are written for, does not): a name
    // ending in "\n" passed and broke the Dockerfile line it was written into (`ENV FOO` + a stray `="x"` line).
    [Theory]
    [InlineData("version: v4\nbase: debian:bookworm\nruns: { environment: { \"FOO\\n\": x } }\nvariants:\n  test: {}\n", "test",
        "environment: contains invalid environment variable names (at runs.environment, line 3)")]
    [InlineData("version: v4\nbase: debian:bookworm\nvariants:\n  \"test\\n\": {}\n", "test\n",
        "variants: contains a bad variant name (at variants.test\n, line 4)")]
    public void A_name_ending_in_a_line_break_is_refused(string yaml, string variant, string expected)
    {
        Assert.Equal(expected, T.Refused(yaml, variant).Message);
    }

    [Fact]
    public void A_duplicate_key_is_read_as_Blubber_reads_it_the_last_one_wins()
    {
        // Blubber (ghodss/yaml over go-yaml v2, non-strict) keeps the last value; a real Lift Wing file repeats a key.
        const string yaml = "version: v4\nbase: debian:buster\nbase: debian:bookworm\nvariants:\n  test: {entrypoint: [a]}\n  test: {entrypoint: [b]}\n";
        var lines = T.Lines(yaml, "test");
        Assert.Equal("FROM debian:bookworm AS test", lines[0]);
        Assert.DoesNotContain("debian:buster", string.Join("\n", lines));
        Assert.Contains(lines, l => l.Contains("ENTRYPOINT [\"b\"]", StringComparison.Ordinal));
    }

    [Fact]
    public void Shell_metacharacters_in_values_stay_inside_quotes()
    {
        // A runs.environment value cannot break out of its ENV quoting or start a new instruction.
        const string yaml = "version: v4\nbase: debian:bookworm\nruns: { environment: { EVIL: 'x\" && rm -rf / \\\\' } }\nvariants:\n  test: {}\n";
        Assert.Contains("ENV EVIL=\"x\\\" && rm -rf / \\\\\\\\\"", T.Lines(yaml, "test"));
    }
}
