using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>The BuildKit rendering (dockerd 20.10's built-in Dockerfile frontend) of what the classic builder refused.</summary>
public class BuildKitCompileTests
{
    private const string Head = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n";

    private static CompileResult C(string yaml, CompileOptions? options = null, string variant = "test") =>
        Blubber.Compile(yaml, variant, options: options ?? T.Kit);

    private static string[] Lines(string yaml, CompileOptions? options = null, string variant = "test") =>
        C(yaml, options, variant).Dockerfile.Split('\n');

    [Fact]
    public void Caches_shorthand_and_longhand_are_scoped_to_the_project()
    {
        var lines = Lines(Head + "    builder:\n      command: [make]\n      caches: [\"${HOME}/.cache\", { destination: cache, id: shared-x, access: locked }, { destination: /c, access: private }]\n");
        Assert.Contains("RUN --mount=type=cache,target=/home/somebody/.cache,id=slipway/gerrit/demo/home/somebody/.cache,sharing=shared,uid=65533,gid=65533,mode=0755 "
            + "--mount=type=cache,target=/srv/app/cache,id=slipway/gerrit/demo/shared-x,sharing=locked,uid=65533,gid=65533,mode=0755 "
            + "--mount=type=cache,target=/c,id=slipway/gerrit/demo/c,sharing=private,uid=65533,gid=65533,mode=0755 make", lines);
        var other = Lines(Head + "    builder:\n      command: [make]\n      caches: [/c]\n", T.Kit with { CacheScope = "gerrit/other" });
        Assert.Contains(other, l => l.Contains("id=slipway/gerrit/other/c,"));
    }

    [Fact]
    public void Cache_owner_follows_the_lives_user_and_its_build_args()
    {
        var lines = Lines(Head + "    lives: { uid: 1000, gid: 1001 }\n    builder: { command: [make], caches: [/c] }\n",
            T.Kit with { BuildArgs = new Dictionary<string, string> { ["LIVES_GID"] = "2000" } });
        Assert.Contains(lines, l => l.Contains("id=slipway/gerrit/demo/c,sharing=shared,uid=1000,gid=2000,mode=0755 make"));
    }

    [Fact]
    public void Mounts_bind_the_context_a_variant_or_an_image_writable()
    {
        var lines = Lines(Head + "    builder:\n      command: \"make all\"\n      mounts: [local, { from: tools, source: /opt/bin, destination: /tools }, { from: docker-registry.wikimedia.org/x:1, destination: x }]\n  tools: {}\n");
        Assert.Contains("RUN --mount=type=bind,target=/srv/app,source=.,rw --mount=type=bind,target=/tools,from=tools,source=/opt/bin,rw "
            + "--mount=type=bind,target=/srv/app/x,from=docker-registry.wikimedia.org/x:1,source=/,rw make all", lines);
        // A mounted variant is a dependency: its stage is built first.
        Assert.Equal("FROM debian:bookworm AS tools", lines[0]);
    }

    [Fact]
    public void Script_runs_from_a_helper_stage_mounted_read_only_and_never_lands_in_the_image()
    {
        var r = C(Head + "    builder: { script: \"echo it's 100% \\\\o/\\n\" }\n");
        var df = r.Dockerfile;
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("#!/bin/sh\necho it's 100% \\o/\n"u8.ToArray()));
        Assert.StartsWith($"FROM debian:bookworm AS slipway-script-test-{digest[..12]}\nUSER 0\n"
            + "RUN mkdir -p /slipway-script && : > /slipway-script/script && printf '#!/bin/sh\\012echo it\\047s 100\\045 \\134o/\\012' >> /slipway-script/script && chmod 0555 /slipway-script/script\n\n"
            + "FROM debian:bookworm AS test\n", df);
        Assert.Contains($"RUN --mount=type=bind,target=/{digest},from=slipway-script-test-{digest[..12]},source=/slipway-script [\"/{digest}/script\"]\n", df);
        Assert.True(r.Plan.Stages[0].IsHelper);
    }

    [Fact]
    public void Exclude_on_a_copy_from_a_variant_filters_in_a_helper_stage()
    {
        var df = C(Head + "    copies: [{ from: build, source: out/, destination: out/, exclude: [\"**/*.md\", \"!keep.md\", \"a.b\"] }]\n  build: {}\n").Dockerfile;
        Assert.Contains("FROM debian:bookworm AS slipway-exclude-test-1\nUSER 0\nRUN --mount=type=bind,target=/slipway-in,from=build,source=/srv/app/out/ "
            + "export SLIPWAY_X1='^(.*/)?[^/]*[.]md$' SLIPWAY_X2='^keep[.]md$' SLIPWAY_X3='^a[.]b$' SLIPWAY_N=010 SLIPWAY_OUT='/slipway-out/out' && mkdir -p /slipway-out && ", df);
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID --from=slipway-exclude-test-1 [\"/slipway-out/out\", \"out/\"]\n", df);
        Assert.DoesNotContain("COPY --chown=$LIVES_UID:$LIVES_GID --from=build", df);
    }

    [Fact]
    public void Exclude_on_requirements_applies_to_every_source_of_the_group()
    {
        var df = C(Head + "    builder:\n      command: [make]\n      requirements: [{ from: build, source: /a/b.txt, destination: lib/, exclude: [\"*.tmp\"] }, { from: build, source: /c/, destination: lib/ }]\n  build: {}\n",
            T.Kit).Dockerfile;
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID --from=slipway-exclude-test-1 [\"/slipway-out/b.txt\", \"lib/\"]\n", df);
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID --from=slipway-exclude-test-2 [\"/slipway-out/c\", \"lib/\"]\n", df);
        var local = C(Head + "    node: { requirements: [{ from: local, source: ./, exclude: [\"*.md\"] }] }\n",
            T.Kit with { ContextFiles = ["package.json", "README.md"] }).Dockerfile;
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID [\"package.json\", \"./\"]\n", local);
    }

    [Fact]
    public void Network_steps_are_the_package_installs()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\napt: { packages: [curl] }\nvariants:\n  test:\n    node: { requirements: [package.json] }\n    python: { version: python3, requirements: [r.txt], no-deps: true }\n";
        var r = C(yaml);
        Assert.True(r.NeedsNetwork);
        Assert.Equal([
            "test: apt-get update",
            "test: npm install",
            "test: python3 -m pip install -U \"setuptools!=60.9.0\"",
            "test: python3 -m pip install --no-deps -r \"r.txt\""], r.NetworkSteps);
        Assert.DoesNotContain("--network=none", r.Dockerfile); // dockerd 20.10's frontend has no such flag
        var flagged = C(yaml, T.Kit with { NetworkNoneFlag = true }).Dockerfile.Split('\n');
        Assert.Contains("RUN --network=none python3 -m venv \"/opt/lib/venv\"", flagged);
        Assert.Contains("RUN --network=none python3 -m pip check", flagged);
        Assert.Contains("RUN npm install", flagged);
        Assert.False(C(Head + "    copies: [local]\n").NeedsNetwork);
    }

    [Fact]
    public void Unknown_keys_in_list_entries_are_ignored_as_Blubber_ignores_them_and_the_build_log_says_so()
    {
        // Blubber decodes copies, requirements, mounts, caches and apt proxies with their own UnmarshalJSON, whose plain
        // json.Unmarshal drops unknown keys (scap's stray `test-bullseye-report:` under a copy, apple-search's misspelt
        // `destionation`). The rest of the entry means what it says; an unknown key elsewhere is still refused.
        var r = C(Head + "    copies:\n      - from: other\n        source: /srv/app/test-reports\n        destination: /\n        test-bullseye-report:\n"
            + "    builder:\n      command: [make]\n      requirements: [{ from: local, source: config.json.tpl, destionation: config.json }]\n"
            + "      mounts: [{ from: local, source: x, mode: ro }]\n      caches: [{ destination: /c, sharing: locked }]\n"
            + "    apt: { packages: [curl], proxies: [{ url: \"http://proxy.example:8080\", note: x }] }\n  other: {}\n");
        Assert.Equal([
            "variants.test.copies[0].test-bullseye-report (line 9): unknown field \"test-bullseye-report\" ignored, as Blubber ignores unknown fields inside this list's entries (known: from, source, destination, exclude)",
            "variants.test.builder.requirements[0].destionation (line 12): unknown field \"destionation\" ignored, as Blubber ignores unknown fields inside this list's entries (known: from, source, destination, exclude)",
            "variants.test.builder.mounts[0].mode (line 13): unknown field \"mode\" ignored, as Blubber ignores unknown fields inside this list's entries (known: from, destination, source)",
            "variants.test.builder.caches[0].sharing (line 14): unknown field \"sharing\" ignored, as Blubber ignores unknown fields inside this list's entries (known: destination, id, access)",
            "variants.test.apt.proxies[0].note (line 15): unknown field \"note\" ignored, as Blubber ignores unknown fields inside this list's entries (known: url, source)",
        ], r.Warnings);
        var lines = r.Dockerfile.Split('\n');
        // The requirement without its (misspelt) destination is copied to the working directory under its own name, as Blubber does.
        Assert.Contains(lines, l => l.StartsWith("COPY ", StringComparison.Ordinal) && l.Contains("config.json.tpl", StringComparison.Ordinal));
        Assert.Contains("--from=other [\"/srv/app/test-reports\", \"/\"]", r.Dockerfile);

        // Strict as Blubber elsewhere: a variant's own unknown key is refused.
        Assert.Equal("json: unknown field \"copiez\" (at variants.test.copiez, line 5)",
            Assert.Throws<BlubberException>(() => C(Head + "    copiez: [local]\n")).Message);
    }

    [Fact]
    public void Syntax_pin_is_labelled_and_keys_newer_than_it_warn()
    {
        var r = C("# syntax = docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1.4.1\n" + Head + "    arguments: { AB: x }\n");
        Assert.Equal("v1.4.1", r.PinnedBlubberVersion);
        Assert.EndsWith("LABEL blubber.variant=\"test\" blubber.version=\"v1.4.1\" slipway.compiler=\"test\"\n", r.Dockerfile);
        Assert.Equal(["variants.test.arguments (line 6): \"arguments\" was added in Blubber v1.5.0; the pinned v1.4.1 would refuse it, Slipway accepts it as current Blubber does"], r.Warnings);
        Assert.Null(C(Head).PinnedBlubberVersion);
        Assert.Null(C("# syntax=docker/dockerfile:1\n" + Head).PinnedBlubberVersion);
    }

    // PipelineLib builds with the frontend a `# syntax=` line names only when it is one of its two allowed images
    // (PipelineRunner.buildkitAllowedFrontends); any other it replaces with its default, Blubber v0.11.1. Toolforge's
    // and mobileapps' files pin `…/repos/releng/blubber:v0.12.1`, which is not one of them.
    [Fact]
    public void A_frontend_PipelineLib_does_not_allow_counts_as_its_default_and_is_not_recorded()
    {
        const string replaced = "# syntax=docker-registry.wikimedia.org/repos/releng/blubber:v0.23.0\n";
        var r = C(replaced + Head + "    python: { version: python3, requirements: [r.txt], use-system-flag: true }\n");
        Assert.Null(r.PinnedBlubberVersion);
        Assert.Contains("LABEL blubber.variant=\"test\" blubber.version=\"test\"", r.Dockerfile);
        Assert.Equal([
            "# syntax= names docker-registry.wikimedia.org/repos/releng/blubber:v0.23.0, which PipelineLib does not build with (it allows only " +
            "docker-registry.wikimedia.org/repos/releng/blubber/buildkit and docker-registry.wikimedia.org/wikimedia/blubber-buildkit); " +
            "it used its default frontend, Blubber v0.11.1, so the file is validated as that version validated it",
            "variants.test.python.use-system-flag (line 6): \"use-system-flag\" was removed in Blubber v0.23.0 and is accepted because PipelineLib " +
            $"replaces the frontend its `# syntax=` line names with its default, Blubber v0.11.1; {UseSystemFlagNoEffect}"], r.Warnings);
        // The same tag of an allowed frontend is honoured: v0.23.0 no longer had the key.
        Assert.Equal(UseSystemFlagRefused, Assert.Throws<BlubberException>(() => C(replaced.Replace("releng/blubber:", "releng/blubber/buildkit:") + Head +
            "    python: { version: python3, requirements: [r.txt], use-system-flag: true }\n")).Message);
        Assert.Equal("v1.2.0", C("# syntax=docker-registry.wikimedia.org/wikimedia/blubber-buildkit:v1.2.0\n" + Head).PinnedBlubberVersion);
        Assert.Null(C("# syntax=ghcr.io/someone/blubber/buildkit:v1.2.0\n" + Head).PinnedBlubberVersion);
        // Of several `# syntax=` lines at the top, PipelineLib reads the last.
        Assert.Equal("v1.4.0", C("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v0.21.0\n" +
            "# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1.4.0\n" + Head).PinnedBlubberVersion);
    }

    private const string UseSystemFlagRefused = "json: unknown field \"use-system-flag\" (at variants.test.python.use-system-flag, line 6)";
    private const string UseSystemFlagNoEffect = "it has no effect: the Python builder installs into a virtualenv (as Blubber does since v0.23.0), where pip's Debian-only --system flag does not apply";

    // Without a `# syntax=` line naming a Blubber frontend, PipelineLib builds the file with its default frontend,
    // Blubber v0.11.1 (PipelineRunner.buildkitFrontend), which still had the key.
    [Theory]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v0.22.0\n", null, "this file pins v0.22.0")]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v0.23.0\n", UseSystemFlagRefused, null)]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:latest\n", UseSystemFlagRefused, null)]
    [InlineData("# a comment\n", null, "this file has no `# syntax=` line, so PipelineLib builds it with its default frontend, Blubber v0.11.1")]
    [InlineData("# syntax=docker/dockerfile:1\n", null, "this file has no `# syntax=` line, so PipelineLib builds it with its default frontend, Blubber v0.11.1")]
    public void Use_system_flag_is_accepted_with_a_warning_only_when_the_validating_blubber_still_had_it(string header, string? refusal, string? because)
    {
        var yaml = header + Head + "    python: { version: python3, requirements: [r.txt], use-system-flag: true }\n";
        if (refusal is not null)
        {
            Assert.Equal(refusal, Assert.Throws<BlubberException>(() => C(yaml)).Message);
            return;
        }
        var r = C(yaml);
        Assert.Equal([$"variants.test.python.use-system-flag (line 6): \"use-system-flag\" was removed in Blubber v0.23.0 and is accepted because {because}; {UseSystemFlagNoEffect}"], r.Warnings);
        Assert.Contains("RUN python3 -m pip install -r \"r.txt\"", r.Dockerfile.Split('\n'));
    }

    private const string BuildersWithoutFrom =
        "    builders:\n      - custom:\n          command: [make]\n          requirements:\n            - source: .\n              destination: .\n";
    private const string FromRequired = "from: is required (at variants.test.builders[0].custom.requirements[0], line 9)";

    // Blubber validated the entries of a `builders` list only from v1.3.0 (commit 1386dd8); before, a requirement without
    // `from` was copied from the build context (kartotherian pins v0.21.0 and relies on it). `builder` was always validated.
    [Theory]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v0.21.0\n", null, "this file pins v0.21.0")]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1.2.0\n", null, "this file pins v1.2.0")]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1.3.0\n", FromRequired, null)]
    [InlineData("# syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:latest\n", FromRequired, null)]
    [InlineData("", null, "this file has no `# syntax=` line, so PipelineLib builds it with its default frontend, Blubber v0.11.1")]
    public void A_builders_requirement_without_from_is_local_only_where_the_validating_blubber_did_not_check_builders(string header, string? refusal, string? because)
    {
        var yaml = header + Head + BuildersWithoutFrom;
        if (refusal is not null)
        {
            Assert.Equal(refusal.Replace("line 9", $"line {9 + header.Count(c => c == '\n')}"), Assert.Throws<BlubberException>(() => C(yaml)).Message);
            return;
        }
        var r = C(yaml);
        var line = 9 + header.Count(c => c == '\n');
        Assert.Equal([$"variants.test.builders[0].custom.requirements[0] (line {line}): \"from\" is missing; accepted as \"local\" (the build context) " +
            $"because {because}, which did not validate `builders` entries (Blubber v1.3.0 and later refuse it)"], r.Warnings);
        // The same COPY of the build context as with `from: local`.
        static string[] Copies(string dockerfile) => [.. dockerfile.Split('\n').Where(l => l.StartsWith("COPY", StringComparison.Ordinal))];
        var local = C(Head + BuildersWithoutFrom.Replace("            - source: .\n", "            - from: local\n              source: .\n")).Dockerfile;
        Assert.NotEmpty(Copies(local));
        Assert.Equal(Copies(local), Copies(r.Dockerfile));
        // The singular `builder` was validated in every version.
        Assert.Equal("from: is required (at variants.test.builder.requirements[0], line " + (8 + header.Count(c => c == '\n')) + ")",
            Assert.Throws<BlubberException>(() => C(header + Head + "    builder:\n      command: [make]\n      requirements:\n        - source: .\n          destination: .\n")).Message);
    }

    [Fact]
    public void Run_variant_runs_the_entrypoint_last_with_args_and_env_never_cached()
    {
        var lines = Lines(Head + "    entrypoint: [./run.sh, \"--x\"]\n", T.Kit with
        {
            RunVariant = true, EntrypointArgs = ["a b", "$HOME"], RunVariantEnv = new Dictionary<string, string> { ["ZZ"] = "2", ["AA"] = "1\n" },
        });
        Assert.Equal("RUN [\"/bin/sh\", \"-c\", \"export AA=\\\"${1}\\\" ZZ=\\\"${2}\\\"; shift 2; exec \\\"$@\\\"\", \"slipway-run-variant-n0\", \"1\\n\", \"2\", \"./run.sh\", \"--x\", \"a b\", \"$HOME\"]", lines[^4]);
        Assert.Equal("ENTRYPOINT [\"./run.sh\", \"--x\"]", lines[^5]);
        var noEnv = Lines(Head + "    entrypoint: [./run.sh]\n", T.Kit with { RunVariant = true });
        Assert.Contains("RUN [\"/bin/sh\", \"-c\", \"exec \\\"$@\\\"\", \"slipway-run-variant-n0\", \"./run.sh\"]", noEnv);
    }

    [Fact]
    public void Build_args_set_declared_arguments_and_users_and_ignore_the_rest()
    {
        var r = C(Head + "    arguments: { VERSION: \"1.0\" }\n", T.Kit with
        {
            BuildArgs = new Dictionary<string, string> { ["VERSION"] = "2.0", ["RUNS_UID"] = "1234", ["UNDECLARED"] = "x" },
        });
        var lines = r.Dockerfile.Split('\n');
        Assert.Contains("ARG VERSION=\"2.0\"", lines);
        Assert.Contains("ARG RUNS_UID=1234", lines);
        Assert.Equal([new("RUNS_UID", "1234"), new KeyValuePair<string, string>("VERSION", "2.0")], r.BuildArgs);
    }

    [Theory]
    [InlineData("    builder: { command: [make], caches: [/c] }\n", null,
        "caches: need the project's cache scope (letters, digits, . _ / -), so that caches are never shared between projects (at variants.test, line 5)")]
    [InlineData("    builder: { command: [make], caches: [\"$XDG_CACHE_HOME/pip\"] }\n", "p",
        "caches.destination: \"$XDG_CACHE_HOME\" is not set by the config, so Blubber takes it from the environment of the base image \"debian:bookworm\", whose config is needed to expand it (the builder reads it from the image; offline, write the value) (at variants.test, line 5)")]
    [InlineData("    lives: { in: \"/srv/a b\" }\n    builder: { command: [make], mounts: [local] }\n", "p",
        "mounts.destination: \"/srv/a b\" must not be empty or contain commas, quotes, \"=\" or whitespace (Slipway is stricter than Blubber here: the value is written into a RUN --mount flag, whose comma-separated fields it would split) (at variants.test, line 6)")]
    [InlineData("    copies: [local]\n", "p",
        "run-variant: variant \"test\" has no entrypoint of its own, so Blubber runs the one of its base image \"debian:bookworm\", whose config is needed to know it (the builder reads it from the image; offline, set the variant's entrypoint) (at variants.test, line 5)")]
    public void BuildKit_refusals_name_the_key_and_why(string variant, string? scope, string message)
    {
        var e = Assert.Throws<BlubberException>(() => C(Head + variant, T.Kit with { CacheScope = scope, RunVariant = variant.Contains("copies") }));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Mount_images_obey_the_registry_policy()
    {
        var e = Assert.Throws<BlubberException>(() => Blubber.Compile(
            "version: v4\nbase: registry.example.org/debian:bookworm\nvariants:\n  test:\n    builder: { command: [make], mounts: [docker.io/library/busybox:1] }\n",
            "test", options: T.Kit, registries: new RegistryPolicy(["registry.example.org"])));
        Assert.Equal("image \"docker.io/library/busybox:1\" comes from registry \"docker.io\", which is not allowed (allowed registries: registry.example.org) (at variants.test.mounts)", e.Message);
    }

    [Theory]
    [InlineData("    entrypoint: [\"a\\\"]\\nRUN evil\\n\"]\n")]
    [InlineData("    builder: { command: \"true\\nRUN evil\\n\" }\n")]
    [InlineData("    builder: { command: \"echo \\\\\" }\n    entrypoint: [x]\n")]
    [InlineData("    builder: { command: [echo, \"\\nRUN evil\\r\\u2028\"] }\n")]
    [InlineData("    builder: { script: \"#!/bin/sh\\n'; RUN evil\\n\" }\n")]
    public void Text_that_Blubber_accepts_cannot_add_a_Dockerfile_instruction(string variant)
    {
        var lines = C(Head + variant).Dockerfile.Split('\n');
        Assert.DoesNotContain(lines, l => l.StartsWith("RUN evil", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain('\r', l));
        Assert.DoesNotContain(lines, l => l.TrimEnd().EndsWith('\\')); // no line continues into the next
    }

    [Fact]
    public void An_empty_entrypoint_replaces_the_inherited_one_and_writes_none()
    {
        var df = C("version: v4\nbase: debian:bookworm\nentrypoint: [./top]\nvariants:\n  test: { entrypoint: [] }\n").Dockerfile;
        Assert.DoesNotContain("ENTRYPOINT", df);
    }

    [Fact]
    public void Multi_line_commands_and_entrypoints_run_exactly_as_written()
    {
        var lines = Lines(Head + "    builder: { command: \"set -e\\nmake \\\\\\n  all\\n\" }\n    entrypoint: [sh, \"-c\", \"a\\n\\tb\"]\n");
        Assert.Contains("RUN [\"/bin/sh\", \"-c\", \"set -e\\nmake \\\\\\n  all\\n\"]", lines);
        Assert.Contains("ENTRYPOINT [\"sh\", \"-c\", \"a\\n\\tb\"]", lines);
        // List-form arguments are Go-quoted, as Blubber quotes them: a newline stays the two characters \n.
        Assert.Contains("RUN printf \"%s\\\\n\" \"a\\nb\"", Lines(Head + "    builder: { command: [printf, \"%s\\\\n\", \"a\\nb\"] }\n"));
    }
}
