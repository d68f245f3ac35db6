using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>
/// One row per validation rule of Blubber's config package (validation.go tags and custom validators, v1.8.0): a value
/// Blubber accepts is accepted, a value it refuses is refused with its message. Rules where Slipway is stricter are in
/// <see cref="Stricter_rules_say_so_and_why"/> and in docs/blubber.md.
/// </summary>
public class BlubberRuleTests
{
    private const string Head = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n";

    private static ExpandedConfig Accept(string yaml, string variant = "test") => Expander.Expand(ConfigParser.Parse(yaml), variant);

    public static TheoryData<string, string, string, string> Rules => new()
    {
        // rule, accepted variant body, refused variant body, exact refusal
        { "variants", "", "", "" }, // placeholder row replaced below (names are checked on the whole file)
        { "imageref", "    base: docker-registry.wikimedia.org/bookworm:20240101\n", "    base: \"Debian:Bookworm\"\n",
            "base: \"Debian:Bookworm\" is not a valid image reference (at variants.test.base, line 5)" },
        { "envvars arguments", "    arguments: { AB_1: x, _x: \"\" }\n", "    arguments: { 1BAD: x }\n",
            "arguments: contains invalid environment variable names (at variants.test.arguments, line 5)" },
        { "envvars environment", "    runs: { environment: { PATH: \"/x:${PATH}\" } }\n", "    runs: { environment: { A: x, \"A-B\": x } }\n",
            "environment: contains invalid environment variable names (at variants.test.runs.environment, line 5)" },
        { "abspath lives.in", "    lives: { in: \"/srv//app/../app/\" }\n", "    lives: { in: /foo/.. }\n",
            "in: \"/foo/..\" is not a valid absolute non-root path (at variants.test.lives.in, line 5)" },
        { "abspath runs.in", "    runs: { in: /srv/app/./bin }\n", "    runs: { in: bin }\n",
            "in: \"bin\" is not a valid absolute non-root path (at variants.test.runs.in, line 5)" },
        { "username", "    lives: { as: ab }\n    runs: { as: app.user-1 }\n", "    runs: { as: root }\n",
            "as: \"root\" is not a valid user name (at variants.test.runs.as, line 5)" },
        { "variantref", "    includes: [local, other]\n  other: {}\n", "    includes: [nope]\n",
            "includes[0]: references an unknown variant \"nope\" (at variants.test.includes, line 5)" },
        { "artifactfrom", "    copies: [{ from: docker-registry.wikimedia.org/x:1, source: /a }, { from: other, source: b }]\n  other: {}\n",
            "    copies: [{ from: \"Not An Image\" }]\n",
            "from: \"Not An Image\" is not a valid image reference or known variant (at variants.test.copies, line 5)" },
        { "required from", "    copies: [local]\n", "    copies: [{ source: a }]\n", "from: is required (at variants.test.copies[0], line 5)" },
        { "requiredwith", "    copies: [{ from: local, source: a }]\n", "    copies: [{ from: local, destination: a }]\n",
            "source: is required if \"destination\" is also set (at variants.test.copies[0], line 5)" },
        { "relativelocal", "    copies: [{ from: local, source: a/../b }, { from: other, source: ../x }]\n  other: {}\n",
            "    copies: [{ from: local, source: ..foo }]\n",
            "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 5)" },
        { "destination (unchecked)", "    copies: [{ from: local, source: a, destination: / }, { from: local, source: b, destination: ../lib }]\n",
            "    copies: [{ from: local, source: /etc/passwd }]\n",
            "source: path must be relative when \"from\" is \"local\" (at variants.test.copies[0], line 5)" },
        { "uniqueartifacts copies", "    copies: [local, other]\n  other: {}\n", "    copies: [local, local]\n",
            "copies: cannot contain duplicates (at variants.test.copies, line 5)" },
        { "uniqueartifacts requirements", "    node: { requirements: [a, b] }\n", "    node: { requirements: [a, { from: local, source: a }] }\n",
            "requirements: cannot contain duplicates (at variants.test.node.requirements, line 5)" },
        { "unique mounts", "    builder: { command: [make], mounts: [local, { from: local, source: x }] }\n", "    builder: { command: [make], mounts: [local, local] }\n",
            "mounts: cannot contain duplicates (at variants.test.builder.mounts, line 5)" },
        { "unique caches", "    builder: { command: [make], caches: [/a, { destination: /a, id: x, access: locked }] }\n",
            "    builder: { command: [make], caches: [/a, /a] }\n", "caches: cannot contain duplicates (at variants.test.builder.caches, line 5)" },
        { "required cache destination", "    builder: { caches: [{ destination: /c }] }\n", "    builder: { caches: [{ id: x }] }\n",
            "destination: is required (at variants.test.builder.caches[0], line 5)" },
        { "debianpackage", "    apt: { packages: [curl, \"foo=1:2.3~rc1\", foo/bookworm-backports, g++] }\n", "    apt: { packages: [\"foo=1.0:x\"] }\n",
            "packages[default][0]: \"foo=1.0:x\" is not a valid Debian package name (at variants.test.apt.packages[0], line 5)" },
        { "debianrelease packages", "    apt: { packages: { bookworm-backports: [curl], Buster: [git] } }\n", "    apt: { packages: { \"123\": [curl] } }\n",
            "packages: \"123\" is not a valid Debian release name (at variants.test.apt.packages.123, line 5)" },
        { "debianrelease distribution", "    apt: { sources: [{ url: http://apt.wikimedia.org/wikimedia, distribution: bookworm-wikimedia }] }\n",
            "    apt: { sources: [{ url: http://x.org, distribution: \"42\" }] }\n",
            "distribution: \"42\" is not a valid Debian release name (at variants.test.apt.sources[0].distribution, line 5)" },
        { "required distribution", "    apt: { sources: [{ url: http://x.org, distribution: bookworm }] }\n", "    apt: { sources: [{ url: http://x.org }] }\n",
            "distribution: is required (at variants.test.apt.sources[0], line 5)" },
        { "debiancomponent", "    apt: { sources: [{ url: http://x.org, distribution: bookworm, components: [main, thirdparty/bar, component/foo, \"\"] }] }\n",
            "    apt: { sources: [{ url: http://x.org, distribution: bookworm, components: [X] }] }\n",
            "components: \"X\" is not a valid Debian component name (at variants.test.apt.sources[0].components[0], line 5)" },
        { "httpurl", "    apt: { proxies: [\"https://webproxy:8080\", { url: \"http://p:3128\", source: \"https://deb.example.org\" }] }\n",
            "    apt: { sources: [{ url: ftp://x.org, distribution: bookworm }] }\n",
            "url: \"ftp://x.org\" is not a valid HTTP/HTTPS URL (at variants.test.apt.sources[0].url, line 5)" },
        { "httpurl (schema ^https?://)", "    apt: { sources: [{ url: \"http://apt.wikimedia.org/wikimedia\", distribution: bookworm }] }\n",
            "    apt: { proxies: [\"HTTPS://webproxy:8080\"] }\n",
            "url: \"HTTPS://webproxy:8080\" is not a valid HTTP/HTTPS URL (at variants.test.apt.proxies[0], line 5)" },
        { "required url", "    apt: { proxies: [{ url: \"http://p:3128\" }] }\n", "    apt: { proxies: [{ source: \"http://p:3128\" }] }\n",
            "url: is required (at variants.test.apt.proxies[0], line 5)" },
        { "nodeenv", "    node: { env: production2 }\n", "    node: { env: \"prod-uction\" }\n",
            "env: \"prod-uction\" is not a valid Node environment name (at variants.test.node.env, line 5)" },
        { "pypkgver", "    python: { version: python3, requirements: [], poetry: { version: \">=1.5,<2\" } }\n",
            "    python: { version: python3, requirements: [], poetry: { version: \"1.5.1\" } }\n",
            "version: \"1.5.1\" is not a valid Python package version specification (at variants.test.python.poetry.version, line 5)" },
        { "uniquetypesexcept", "    builders: [{ custom: { command: [a] } }, { custom: { command: [b] } }, { node: {} }]\n",
            "    builders: [{ python: {} }, { python: {} }]\n", "builders: contains disallowed repetitions of entries (at variants.test.builders, line 5)" },
        { "notallowedwith builders", "    builders: [{ node: {} }]\n    php: {}\n", "    builders: [{ node: {} }]\n    builder: { requirements: [] }\n",
            "builders: is not allowed if any of field(s) \"node php python builder\" is declared/included (at variants.test, line 5)" },
        { "notallowedwith command", "    builder: { script: \"#!/bin/bash\\necho hi\\n\" }\n", "    builder: { command: make, script: \"echo\" }\n",
            "command: is not allowed if any of field(s) \"script\" is declared/included (at variants.test.builder, line 5)" },
        { "entrypoint (strings)", "    entrypoint: [sh, \"-c\", \"set -e\\nrun one\\nrun two\\n\"]\n", "    entrypoint: run\n",
            "entrypoint: must be a list (at variants.test.entrypoint, line 5)" },
        { "command (any text)", "    builder: { command: \"make \\\\\\n  all\" }\n", "    builder: { command: { a: b } }\n",
            "command: must be a string (at variants.test.builder.command, line 5)" },
        { "strings are strings (YAML 1.1 → JSON)", "    python: { version: python3, requirements: [], tox-version: \"3.28\" }\n    arguments: { AB: \"1\", CD: \"yes\" }\n",
            "    python: { version: python3, requirements: [], tox-version: 3.28 }\n",
            "tox-version: expected string, but got number (quote it: \"3.28\") (at variants.test.python.tox-version, line 5)" },
        { "strings are strings: arguments", "    arguments: { AB: x1 }\n", "    arguments: { AB: on }\n",
            "AB: expected string, but got boolean (quote it: \"on\") (at variants.test.arguments.AB, line 5)" },
        { "flag", "    runs: { insecurely: yes }\n    node: { use-npm-ci: On }\n", "    runs: { insecurely: \"true\" }\n",
            "insecurely: must be a boolean (true or false) (at variants.test.runs.insecurely, line 5)" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Blubber_rule_accepts_and_refuses_as_blubber_does(string rule, string accepted, string refused, string message)
    {
        if (accepted.Length == 0) return; // see Variant_names_rule
        Assert.Equal("test", Accept(Head + accepted).Target.Name);
        var e = Assert.Throws<BlubberException>(() => Accept(Head + refused));
        Assert.True(message == e.Message, $"{rule}: expected\n{message}\nbut got\n{e.Message}");
    }

    [Fact]
    public void Variant_names_rule()
    {
        Assert.Equal("a.b-c", Accept("version: v4\nvariants:\n  a.b-c: {}\n", "a.b-c").Target.Name);
        var e = Assert.Throws<BlubberException>(() => Accept("version: v4\nvariants:\n  t1: {}\n", "t1"));
        Assert.Equal("variants: contains a bad variant name (at variants.t1, line 3)", e.Message);
    }

    [Fact]
    public void Version_rule()
    {
        Assert.Equal("v4", ConfigParser.Parse("version: v4\n").Version);
        Assert.Equal("version: config version \"v3\" is unsupported (at version, line 1)",
            Assert.Throws<BlubberException>(() => ConfigParser.Parse("version: v3\n")).Message);
    }

    [Fact]
    public void Accepted_values_keep_their_meaning()
    {
        var v = Accept(Head + "    lives: { in: \"/srv//app/../app/\" }\n    runs: { insecurely: yes }\n").Target;
        Assert.Equal("/srv/app", v.Common.Lives.In);
        Assert.True(v.Common.Runs.Insecurely);
    }

    [Theory]
    [InlineData("    runs: { environment: { AB: \"x\\ny\" } }\n",
        "AB: must not contain control characters (newlines, tabs) (Slipway is stricter than Blubber here: the value lands in a Dockerfile line, where a newline would start a new instruction) (at variants.test.runs.environment.AB, line 5)")]
    [InlineData("    apt: { proxies: [\"http://p:3128/\\\";APT::Update::Pre-Invoke{\\\"id\\\"}\"] }\n",
        "url: \"http://p:3128/\";APT::Update::Pre-Invoke{\"id\"}\" must not contain whitespace, quotes, backslashes, \"$\", \"`\" or \";\" (Slipway is stricter than Blubber here: the URL is written into apt's configuration, where a quote would end the string and add apt options, some of which run commands) (at variants.test.apt.proxies[0], line 5)")]
    [InlineData("    apt: { packages: { \"bookworm$(id)\": [curl] } }\n",
        "packages: \"bookworm$(id)\" must not contain \"$\", \"`\", quotes or backslashes (Slipway is stricter than Blubber here: the value is double-quoted in a shell command of a step that has network access, where $ and ` would run commands) (at variants.test.apt.packages.bookworm$(id), line 5)")]
    [InlineData("    python: { version: python3, requirements: [], pip-version: \"latest please\" }\n",
        "pip-version: \"latest please\" is not a valid Python package version specification (Slipway is stricter than Blubber here: the value is double-quoted in a shell command of a step that has network access, where $ and ` would run commands) (at variants.test.python.pip-version, line 5)")]
    [InlineData("    python: { version: \"python3 -c x\", requirements: [] }\n",
        "version: \"python3 -c x\" is not a valid Python binary name (letters, digits, _ . / -) (Slipway is stricter than Blubber here: the binary name starts shell commands unquoted, as in Blubber, in steps that have network access) (at variants.test.python.version, line 5)")]
    [InlineData("    builder: { command: [make], mounts: [{ from: local, destination: \"/a,readonly\" }] }\n",
        "destination: \"/a,readonly\" must not contain commas, quotes, \"=\" or whitespace (Slipway is stricter than Blubber here: the value is written into a RUN --mount flag, whose comma-separated fields it would split) (at variants.test.builder.mounts[0], line 5)")]
    [InlineData("    builder: { command: [make], mounts: [{ source: x }] }\n",
        "from: is required (Slipway is stricter than Blubber here: Blubber would mount an image named \"\" and fail the build) (at variants.test.builder.mounts[0], line 5)")]
    [InlineData("    builder: { command: [make], mounts: [\"Not An Image\"] }\n",
        "from: \"Not An Image\" is not a valid image reference or known variant (Slipway is stricter than Blubber here: Blubber does not check a mount's from and would try to pull it as an image at build time; Slipway writes it into a RUN --mount flag) (at variants.test.builder.mounts, line 5)")]
    [InlineData("    python: { version: python3, requirements: [], poetry: { version: \"==1.8\", only: \"main,$(id)\" } }\n",
        "only: \"main,$(id)\" must not contain \"$\" or \"`\" (Slipway is stricter than Blubber here: the value is double-quoted in a shell command of a step that has network access, where $ and ` would run commands) (at variants.test.python.poetry.only, line 5)")]
    public void Stricter_rules_say_so_and_why(string variant, string message)
    {
        var e = Assert.Throws<BlubberException>(() => Accept(Head + variant));
        Assert.Equal(message, e.Message);
        Assert.Equal(4, e.ExitCode);
    }
}
