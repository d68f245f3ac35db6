using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

public class ValidationTests
{
    private const string Head = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n";

    [Theory]
    // blubber-v4 §9, message for message; the location suffix names the key path and line.
    [InlineData("version: v3\nvariants: {test: {}}\n", "version: config version \"v3\" is unsupported (at version, line 1)")]
    [InlineData("version: v3\nbogus: 1\n", "version: config version \"v3\" is unsupported (at version, line 1)")]
    [InlineData("variants: {test: {}}\n", "version: is required")]
    [InlineData("version: v4\nbogus: 1\n", "json: unknown field \"bogus\" (at bogus, line 2)")]
    [InlineData(Head + "    lives:\n      in: /srv/app\n      home: /x\n", "json: unknown field \"home\" (at variants.test.lives.home, line 7)")]
    [InlineData("version: v4\nvariants:\n  t1: {}\n", "variants: contains a bad variant name (at variants.t1, line 3)")]
    [InlineData(Head + "    base: \"Debian:Bookworm\"\n", "base: \"Debian:Bookworm\" is not a valid image reference (at variants.test.base, line 5)")]
    [InlineData(Head + "    arguments: { 1BAD: x }\n", "arguments: contains invalid environment variable names (at variants.test.arguments, line 5)")]
    [InlineData(Head + "    runs: { environment: { \"A-B\": x } }\n", "environment: contains invalid environment variable names (at variants.test.runs.environment, line 5)")]
    [InlineData(Head + "    lives: { in: / }\n", "in: \"/\" is not a valid absolute non-root path (at variants.test.lives.in, line 5)")]
    [InlineData(Head + "    lives: { in: /foo/.. }\n", "in: \"/foo/..\" is not a valid absolute non-root path (at variants.test.lives.in, line 5)")]
    [InlineData(Head + "    runs: { in: relative/dir }\n", "in: \"relative/dir\" is not a valid absolute non-root path (at variants.test.runs.in, line 5)")]
    [InlineData(Head + "    runs: { as: root }\n", "as: \"root\" is not a valid user name (at variants.test.runs.as, line 5)")]
    [InlineData(Head + "    lives: { as: a }\n", "as: \"a\" is not a valid user name (at variants.test.lives.as, line 5)")]
    [InlineData(Head + "    includes: [nope]\n", "includes[0]: references an unknown variant \"nope\" (at variants.test.includes, line 5)")]
    [InlineData(Head + "    copies: [{ from: \"Not An Image\" }]\n", "from: \"Not An Image\" is not a valid image reference or known variant (at variants.test.copies, line 5)")]
    [InlineData(Head + "    copies: [{ source: a }]\n", "from: is required (at variants.test.copies[0], line 5)")]
    [InlineData(Head + "    copies: [{ from: local, destination: a }]\n", "source: is required if \"destination\" is also set (at variants.test.copies[0], line 5)")]
    [InlineData(Head + "    copies: [{ from: local, source: /etc/passwd }]\n", "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 5)")]
    [InlineData(Head + "    copies: [{ from: local, source: ../secrets }]\n", "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 5)")]
    [InlineData(Head + "    copies: [{ from: local, source: a/../../b }]\n", "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 5)")]
    [InlineData(Head + "    copies: [local, local]\n", "copies: cannot contain duplicates (at variants.test.copies, line 5)")]
    [InlineData(Head + "    node: { requirements: [a, a] }\n", "requirements: cannot contain duplicates (at variants.test.node.requirements, line 5)")]
    [InlineData(Head + "    copies: [local, { from: local }]\n", "copies: must be a list of variant names or a list of artifacts, not a mix (at variants.test.copies, line 5)")]
    [InlineData(Head + "    apt: { packages: [curl, \"foo fighter\"] }\n", "packages[default][1]: \"foo fighter\" is not a valid Debian package name (at variants.test.apt.packages[1], line 5)")]
    [InlineData(Head + "    apt: { packages: { bookworm: [\"Bad\"] } }\n", "packages[bookworm][0]: \"Bad\" is not a valid Debian package name (at variants.test.apt.packages.bookworm[0], line 5)")]
    [InlineData(Head + "    apt: { sources: [{ url: ftp://x.org, distribution: bookworm }] }\n", "url: \"ftp://x.org\" is not a valid HTTP/HTTPS URL (at variants.test.apt.sources[0].url, line 5)")]
    [InlineData(Head + "    apt: { sources: [{ distribution: bookworm }] }\n", "url: is required (at variants.test.apt.sources[0], line 5)")]
    [InlineData(Head + "    apt: { proxies: [\"http://x.org/$(id)\"] }\n", "url: \"http://x.org/$(id)\" must not contain whitespace, quotes, backslashes, \"$\", \"`\" or \";\" (Slipway is stricter than Blubber here: the URL is written into apt's configuration, where a quote would end the string and add apt options, some of which run commands) (at variants.test.apt.proxies[0], line 5)")]
    [InlineData(Head + "    node: { env: \"prod uction\" }\n", "env: \"prod uction\" is not a valid Node environment name (at variants.test.node.env, line 5)")]
    [InlineData(Head + "    python: { version: python3, requirements: [], poetry: { version: \"latest please\" } }\n", "version: \"latest please\" is not a valid Python package version specification (at variants.test.python.poetry.version, line 5)")]
    [InlineData(Head + "    builders: [{ node: {} }, { node: {} }]\n", "builders: contains disallowed repetitions of entries (at variants.test.builders, line 5)")]
    [InlineData(Head + "    builders: [{ node: {} }]\n    php: { production: false }\n", "builders: is not allowed if any of field(s) \"node php python builder\" is declared/included (at variants.test, line 5)")]
    [InlineData(Head + "    builder: { command: [x], script: \"echo\" }\n", "command: is not allowed if any of field(s) \"script\" is declared/included (at variants.test.builder, line 5)")]
    [InlineData(Head + "    entrypoint: run\n", "entrypoint: must be a list (at variants.test.entrypoint, line 5)")]
    [InlineData(Head + "    lives: { uid: -1 }\n", "uid: must be an unsigned integer (at variants.test.lives.uid, line 5)")]
    [InlineData(Head + "    runs: { insecurely: maybe }\n", "insecurely: must be a boolean (true or false) (at variants.test.runs.insecurely, line 5)")]
    [InlineData("version: v4\nvariants:\n  test:\n    copies: [local]\n  other: [1\n", "invalid YAML: While parsing a flow sequence, did not find expected ',' or ']'. (line 6)")]
    public void Refused_with_blubbers_message_and_location(string yaml, string expected)
    {
        var e = T.Refused(yaml);
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Exit_codes_follow_blubber()
    {
        Assert.Equal(2, T.Refused("version: v4\nbogus: 1\n").ExitCode);
        Assert.Equal(4, T.Refused(Head + "    lives: { in: / }\n").ExitCode);
        Assert.Equal(3, T.Refused(Head + "    {}\n", "missing").ExitCode);
    }

    [Fact]
    public void Unknown_target_variant()
    {
        Assert.Equal("processing includes for variant 'prod': There is no key 'prod' in the dependency graph",
            T.Refused("version: v4\nvariants:\n  test: {}\n", "prod").Message);
    }

    [Fact]
    public void Includes_cycle_is_refused()
    {
        const string yaml = "version: v4\nvariants:\n  aaa: { includes: [bbb] }\n  bbb: { includes: [ccc] }\n  ccc: { includes: [aaa] }\n";
        Assert.Equal("processing includes for variant 'aaa': Detected dependency graph cycle at 'aaa'", T.Refused(yaml, "aaa").Message);
    }

    [Fact]
    public void Copies_cycle_is_refused()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  aaa: { copies: [bbb] }\n  bbb: { copies: [aaa] }\n";
        Assert.Equal("processing copies for variant 'aaa': Detected dependency graph cycle at 'aaa'", T.Refused(yaml, "aaa").Message);
    }

    [Fact]
    public void Builders_vs_standalone_fires_across_includes()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nnode: { env: test }\nvariants:\n  test:\n    builders: [{ custom: { command: [x] } }]\n";
        Assert.Equal("builders: is not allowed if any of field(s) \"node php python builder\" is declared/included (at variants.test, line 6)",
            T.Refused(yaml).Message);
    }

    [Theory]
    [InlineData("    builder: { script: \"make\" }\n", "builder.script: is not supported: Slipway builds classic Dockerfiles, which cannot run a script without it landing in the image; use \"command\" (at variants.test, line 5)")]
    [InlineData("    builder: { command: [make], mounts: [local] }\n", "builder.mounts: is not supported: Slipway builds classic Dockerfiles, which have no BuildKit mounts; use \"requirements\" or \"copies\" (at variants.test, line 5)")]
    [InlineData("    builder: { command: [make], caches: [/home/somebody/.cache] }\n", "builder.caches: is not supported: Slipway builds classic Dockerfiles, which have no BuildKit cache mounts (the cached files would land in the image) (at variants.test, line 5)")]
    [InlineData("    copies: [{ from: other, exclude: [\"*.md\"] }]\n  other: {}\n", "exclude: is only supported for copies from \"local\" (a classic Dockerfile COPY --from cannot exclude files) (at variants.test.copies, line 5)")]
    [InlineData("    copies: [{ from: local, exclude: [\"*.md\"] }]\n", "exclude: needs the list of build context files to be honoured (at variants.test.copies, line 5)")]
    public void BuildKit_only_features_are_refused_by_the_classic_rendering_not_silently_changed(string variant, string expected)
    {
        Assert.Equal(expected, T.Refused(Head + variant).Message);
        Assert.Equal(3, T.Refused(Head + variant).ExitCode);
    }
}
