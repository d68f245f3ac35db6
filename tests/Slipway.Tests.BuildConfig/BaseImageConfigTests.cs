using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>
/// What Blubber reads from the base image's config (build/target.go): run-variant runs the inherited ENTRYPOINT when
/// the variant sets none, and <c>$NAME</c> in mounts and caches expands against the image's environment. With the
/// config given (as the builder does) the compile does as Blubber does; without it (offline) it is refused, naming the
/// image whose config is needed (<see cref="BlubberException.NeedsBaseImage"/>).
/// </summary>
public class BaseImageConfigTests
{
    private const string Head = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n";

    private static readonly BaseImageConfig Entry = new()
    {
        Entrypoint = ["/docker-entrypoint.sh", "serve"], Cmd = ["--port", "80"],
        Env = ["PATH=/usr/bin:/bin", "XDG_CACHE_HOME=/var/cache/app", "HOME=/root", "EMPTY", "BAD=a,b", "NL=a\nRUN evil"],
        Os = "linux", Architecture = "arm", Variant = "v7",
    };

    private static CompileOptions With(BaseImageConfig? config, IReadOnlyList<string>? args = null) => T.Kit with
    {
        RunVariant = true, EntrypointArgs = args,
        BaseImages = config is null ? null : new Dictionary<string, BaseImageConfig> { ["debian:bookworm"] = config },
    };

    private static string RunStep(params string[] argv) =>
        "RUN [\"/bin/sh\", \"-c\", \"exec \\\"$@\\\"\", \"slipway-run-variant-n0\"" + string.Concat(argv.Select(a => ", " + Compiler.J(a))) + "]";

    public static TheoryData<string, string, BaseImageConfig?, string[]?, string> RunVariantRows => new()
    {
        // case, variant body, base image config, entrypoint-args, the run-variant step
        { "inherited entrypoint", "    copies: [local]\n", Entry, null, RunStep("/docker-entrypoint.sh", "serve") },
        { "inherited entrypoint with args", "    copies: [local]\n", Entry, ["--x"], RunStep("/docker-entrypoint.sh", "serve", "--x") },
        { "an empty entrypoint inherits", "    entrypoint: []\n", Entry, null, RunStep("/docker-entrypoint.sh", "serve") },
        { "own entrypoint wins", "    entrypoint: [./run.sh]\n", Entry, null, RunStep("./run.sh") },
        { "own entrypoint needs no config", "    entrypoint: [./run.sh]\n", null, null, RunStep("./run.sh") },
        { "no entrypoint anywhere: the args run", "    copies: [local]\n", new BaseImageConfig(), ["./check.sh"], RunStep("./check.sh") },
        { "a multi-line inherited element stays one JSON string", "    copies: [local]\n",
            new BaseImageConfig { Entrypoint = ["/bin/sh", "-c", "echo a\"]\nRUN evil\r\n"] }, null, RunStep("/bin/sh", "-c", "echo a\"]\nRUN evil\r\n") },
    };

    [Theory]
    [MemberData(nameof(RunVariantRows))]
    public void Run_variant_runs_the_entrypoint_Blubber_would(string @case, string variant, BaseImageConfig? config, string[]? args, string step)
    {
        var lines = Blubber.Compile(Head + variant, "test", options: With(config, args)).Dockerfile.Split('\n');
        Assert.True(lines[^4] == step, $"{@case}: {lines[^4]}");
        // The inherited entry point stays the image's own: no ENTRYPOINT is written for it.
        if (!variant.Contains("./run.sh", StringComparison.Ordinal)) Assert.DoesNotContain(lines, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("RUN evil", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, BaseImageConfig?, string?, string> RunVariantRefusals => new()
    {
        // case, variant body, base image config, the image whose config is needed, exact refusal
        { "no config", "    copies: [local]\n", null, "debian:bookworm",
            "run-variant: variant \"test\" has no entrypoint of its own, so Blubber runs the one of its base image \"debian:bookworm\", whose config is needed to know it (the builder reads it from the image; offline, set the variant's entrypoint) (at variants.test, line 5)" },
        { "config of another image", "    base: registry.example.org/other:1\n", Entry, "registry.example.org/other:1",
            "run-variant: variant \"test\" has no entrypoint of its own, so Blubber runs the one of its base image \"registry.example.org/other:1\", whose config is needed to know it (the builder reads it from the image; offline, set the variant's entrypoint) (at variants.test, line 5)" },
        { "image with only a CMD", "    copies: [local]\n", new BaseImageConfig { Cmd = ["nginx"] }, null,
            "run-variant: variant \"test\" has no entrypoint, and neither has its base image \"debian:bookworm\" (it has a CMD, which Blubber's run-variant does not run): there is nothing to run (at variants.test, line 5)" },
        { "image with nothing", "    copies: [local]\n", new BaseImageConfig(), null,
            "run-variant: variant \"test\" has no entrypoint, and neither has its base image \"debian:bookworm\": there is nothing to run (at variants.test, line 5)" },
        { "scratch inherits nothing, config or not", "    copies: [local]\n", null, null,
            "run-variant: variant \"test\" has no entrypoint, and a scratch image inherits none: there is nothing to run (at variants.test, line 4)" },
    };

    [Theory]
    [MemberData(nameof(RunVariantRefusals))]
    public void Run_variant_without_an_entrypoint_to_run_is_refused_saying_why(string @case, string variant, BaseImageConfig? config, string? needs, string message)
    {
        // A variant cannot unset an inherited base (an empty scalar does not override): scratch is a file without one.
        var head = @case.StartsWith("scratch", StringComparison.Ordinal) ? Head.Replace("base: debian:bookworm\n", "", StringComparison.Ordinal) : Head;
        var e = Assert.Throws<BlubberException>(() => Blubber.Compile(head + variant, "test", options: With(config)));
        Assert.True(message == e.Message, $"{@case}: {e.Message}");
        Assert.Equal(needs, e.NeedsBaseImage);
        Assert.Equal(3, e.ExitCode);
    }

    private const string CacheLine = ",sharing=shared,uid=65533,gid=65533,mode=0755 make";

    public static TheoryData<string, string, BaseImageConfig?, string> ExpansionRows => new()
    {
        // case, cache destination, base image config, the rendered cache mount
        { "the image's variable", "$XDG_CACHE_HOME/pip", Entry, "--mount=type=cache,target=/var/cache/app/pip,id=slipway/gerrit/demo/var/cache/app/pip" + CacheLine },
        { "braces", "${XDG_CACHE_HOME}/pip", Entry, "--mount=type=cache,target=/var/cache/app/pip,id=slipway/gerrit/demo/var/cache/app/pip" + CacheLine },
        { "the config's HOME over the image's", "$HOME/.cache", Entry, "--mount=type=cache,target=/home/somebody/.cache,id=slipway/gerrit/demo/home/somebody/.cache" + CacheLine },
        { "set nowhere: empty, as os.Expand", "/c$UNSET/x", Entry, "--mount=type=cache,target=/c/x,id=slipway/gerrit/demo/c/x" + CacheLine },
        { "set without a value", "/c$EMPTY/x", Entry, "--mount=type=cache,target=/c/x,id=slipway/gerrit/demo/c/x" + CacheLine },
        { "platform from the image", "/c/$TARGETARCH$TARGETVARIANT", Entry, "--mount=type=cache,target=/c/armv7,id=slipway/gerrit/demo/c/armv7" + CacheLine },
        { "known names need no config", "/c/$LIVES_UID", null, "--mount=type=cache,target=/c/65533,id=slipway/gerrit/demo/c/65533" + CacheLine },
    };

    [Theory]
    [MemberData(nameof(ExpansionRows))]
    public void Cache_and_mount_names_expand_against_the_base_image_environment(string @case, string destination, BaseImageConfig? config, string mount)
    {
        var lines = Blubber.Compile(Head + $"    builder: {{ command: [make], caches: [\"{destination}\"] }}\n", "test", options: With(config) with { RunVariant = false })
            .Dockerfile.Split('\n');
        Assert.True(lines.Contains("RUN " + mount), $"{@case}: {string.Join('\n', lines.Where(l => l.Contains("--mount", StringComparison.Ordinal)))}");
    }

    [Fact]
    public void A_mount_source_expands_too()
    {
        var lines = Blubber.Compile(Head + "    builder: { command: [make], mounts: [{ from: local, source: \"$XDG_CACHE_HOME\", destination: /m }] }\n", "test",
            options: With(Entry) with { RunVariant = false }).Dockerfile.Split('\n');
        Assert.Contains("RUN --mount=type=bind,target=/m,source=/var/cache/app,rw make", lines);
    }

    public static TheoryData<string, string, BaseImageConfig?, string?, string> ExpansionRefusals => new()
    {
        // case, cache destination, base image config, the image whose config is needed, exact refusal
        { "no config", "$XDG_CACHE_HOME/pip", null, "debian:bookworm",
            "caches.destination: \"$XDG_CACHE_HOME\" is not set by the config, so Blubber takes it from the environment of the base image \"debian:bookworm\", whose config is needed to expand it (the builder reads it from the image; offline, write the value) (at variants.test, line 5)" },
        { "a comma from the image", "/c/$BAD", Entry, null,
            "caches.destination: \"/c/a,b\" must not be empty or contain commas, quotes, \"=\" or whitespace (Slipway is stricter than Blubber here: the value is written into a RUN --mount flag, whose comma-separated fields it would split) (at variants.test, line 5)" },
        { "a newline from the image", "/c/$NL", Entry, null,
            "caches.destination: \"/c/a\nRUN evil\" must not be empty or contain commas, quotes, \"=\" or whitespace (Slipway is stricter than Blubber here: the value is written into a RUN --mount flag, whose comma-separated fields it would split) (at variants.test, line 5)" },
        { "platform unknown", "/c/$TARGETARCH", new BaseImageConfig(), null,
            "caches.destination: \"$TARGETARCH\" is the build platform, which is not known when the Dockerfile is written (the base image's platform is not known); write the value (at variants.test, line 5)" },
    };

    [Theory]
    [MemberData(nameof(ExpansionRefusals))]
    public void Expansion_refusals_say_what_is_needed_or_unsafe(string @case, string destination, BaseImageConfig? config, string? needs, string message)
    {
        var e = Assert.Throws<BlubberException>(() => Blubber.Compile(Head + $"    builder: {{ command: [make], caches: [\"{destination}\"] }}\n", "test",
            options: With(config) with { RunVariant = false }));
        Assert.True(message == e.Message, $"{@case}: {e.Message}");
        Assert.Equal(needs, e.NeedsBaseImage);
    }

    public static TheoryData<string, BaseImageConfig, string> HostileConfigs => new()
    {
        { "too many variables", new BaseImageConfig { Env = Enumerable.Range(0, 1001).Select(i => $"V{i}=x").ToList() },
            "base image \"debian:bookworm\": its ENV has more than 1000 entries" },
        { "a huge entry", new BaseImageConfig { Entrypoint = [new string('x', 64 * 1024 + 1)] },
            "base image \"debian:bookworm\": an entry of its ENTRYPOINT is longer than 65536 characters" },
        { "huge together", new BaseImageConfig { Env = Enumerable.Range(0, 20).Select(i => $"V{i}=" + new string('x', 60_000)).ToList() },
            "base image \"debian:bookworm\": its ENTRYPOINT, CMD and ENV are longer than 1048576 characters together" },
        { "a platform that is not one", new BaseImageConfig { Os = "linux", Architecture = "amd64,x" },
            "base image \"debian:bookworm\": its platform \"amd64,x\" is not a platform name" },
    };

    [Theory]
    [MemberData(nameof(HostileConfigs))]
    public void A_base_image_config_past_its_bounds_is_refused(string @case, BaseImageConfig config, string message)
    {
        var e = Assert.Throws<BlubberException>(() => Blubber.Compile(Head + "    entrypoint: [./run.sh]\n", "test", options: With(config)));
        Assert.True(message == e.Message, $"{@case}: {e.Message}");
    }

    [Fact]
    public void BuildKit_stages_declare_the_platform_variables_Blubber_sets_and_classic_ones_do_not()
    {
        string[] platform = ["ARG BUILDPLATFORM", "ARG BUILDOS", "ARG BUILDARCH", "ARG BUILDVARIANT", "ARG TARGETPLATFORM", "ARG TARGETOS", "ARG TARGETARCH", "ARG TARGETVARIANT"];
        var kit = Blubber.Compile("version: v4\nvariants:\n  test:\n    base: debian:bookworm\n    runs: { environment: { ARCH: $TARGETARCH } }\n"
                + "  bin: { copies: [{ from: test, source: /srv/app }] }\n", "bin", options: T.Kit)
            .Dockerfile.Split('\n');
        var from = Array.IndexOf(kit, "FROM debian:bookworm AS test");
        Assert.Equal(["USER 0", "ENV HOME=\"/root\"", .. platform], kit[(from + 1)..(from + 11)]);
        var scratch = Array.IndexOf(kit, "FROM scratch AS bin");
        Assert.Equal(platform, kit[(scratch + 1)..(scratch + 9)]);
        Assert.Contains("ENV ARCH=\"$TARGETARCH\"", kit);
        var classic = Blubber.Compile(Head + "    copies: [local]\n", "test", options: T.Options).Dockerfile;
        Assert.DoesNotContain("ARG TARGET", classic);
    }
}
