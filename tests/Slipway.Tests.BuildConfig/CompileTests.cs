using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

public class CompileTests
{
    [Fact]
    public void Hello_world_matches_blubber_v0_23_layout_exactly()
    {
        // blubber-v4 §11: feature 01 @set1, reconstructed.
        const string yaml = """
            version: v4
            base: debian:bullseye
            variants:
              hello:
                copies: [local]
                entrypoint: [./hello.sh]
            """;
        Assert.Equal(
            """
            FROM debian:bullseye AS hello
            USER 0
            ENV HOME="/root"
            ARG LIVES_AS="somebody"
            ARG LIVES_UID=65533
            ARG LIVES_GID=65533
            RUN (getent group "$LIVES_GID" || groupadd -o -g "$LIVES_GID" -r "$LIVES_AS") && (getent passwd "$LIVES_UID" || useradd -l -o -m -d "/home/$LIVES_AS" -r -g "$LIVES_GID" -u "$LIVES_UID" "$LIVES_AS") && mkdir -p "/srv/app" && chown "$LIVES_UID":"$LIVES_GID" "/srv/app" && mkdir -p "/opt/lib" && chown "$LIVES_UID":"$LIVES_GID" "/opt/lib"
            ARG RUNS_AS="runuser"
            ARG RUNS_UID=900
            ARG RUNS_GID=900
            RUN (getent group "$RUNS_GID" || groupadd -o -g "$RUNS_GID" -r "$RUNS_AS") && (getent passwd "$RUNS_UID" || useradd -l -o -m -d "/home/$RUNS_AS" -r -g "$RUNS_GID" -u "$RUNS_UID" "$RUNS_AS")
            USER $LIVES_UID
            ENV HOME="/home/somebody"
            WORKDIR "/srv/app"
            COPY --chown=$LIVES_UID:$LIVES_GID [".", "."]
            USER $RUNS_UID
            ENV HOME="/home/$RUNS_AS"
            ENTRYPOINT ["./hello.sh"]

            LABEL blubber.variant="hello" blubber.version="test"

            """, T.Df(yaml, "hello"));
    }

    [Fact]
    public void Empty_variant_gets_users_and_nothing_else()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test: {}\n";
        Assert.Equal(T.Expected("test", "", ""), T.Df(yaml, "test"));
    }

    [Fact]
    public void Lives_and_runs_settings_change_users_dirs_and_env()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            lives: { in: /srv/service, as: owner, uid: 1234, gid: 1235 }
            runs: { as: app, uid: 4321, gid: 4322, in: /srv/service/bin, environment: { BB: "2", AA: "x ${PATH}" } }
            variants:
              test: {}
            """;
        var lines = T.Lines(yaml, "test");
        Assert.Contains("ARG LIVES_AS=\"owner\"", lines);
        Assert.Contains("ARG LIVES_UID=1234", lines);
        Assert.Contains("ARG LIVES_GID=1235", lines);
        Assert.Contains("ARG RUNS_AS=\"app\"", lines);
        Assert.Contains("ARG RUNS_UID=4321", lines);
        Assert.Contains("ARG RUNS_GID=4322", lines);
        Assert.Contains("ENV HOME=\"/home/owner\"", lines);
        Assert.Contains("WORKDIR \"/srv/service\"", lines);
        Assert.Contains("ENV AA=\"x ${PATH}\" BB=\"2\"", lines);
        Assert.Contains(lines, l => l.Contains("mkdir -p \"/srv/service\" && chown \"$LIVES_UID\":\"$LIVES_GID\" \"/srv/service\""));
        var tail = lines[^6..^3];
        Assert.Equal(["USER $RUNS_UID", "ENV HOME=\"/home/$RUNS_AS\"", "WORKDIR \"/srv/service/bin\""], tail);
    }

    [Fact]
    public void Insecurely_stays_the_lives_user_but_still_creates_runs_user()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    runs: { insecurely: true }\n    entrypoint: [x]\n";
        var df = T.Df(yaml, "test");
        Assert.DoesNotContain("USER $RUNS_UID", df);
        Assert.Contains("ARG RUNS_UID=900", df);
        Assert.EndsWith("WORKDIR \"/srv/app\"\nENTRYPOINT [\"x\"]\n\nLABEL blubber.variant=\"test\" blubber.version=\"test\"\n", df);
    }

    [Fact]
    public void Arguments_are_sorted_build_args_before_apt()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\narguments: { ZED: z, ALPHA: \"1\" }\napt: { packages: [curl] }\nvariants:\n  test: {}\n";
        var lines = T.Lines(yaml, "test");
        Assert.Equal(["ARG ALPHA=1", "ARG ZED=\"z\"", "ENV DEBIAN_FRONTEND=\"noninteractive\"",
            "RUN apt-get update && apt-get install -y \"curl\" && rm -rf /var/lib/apt/lists/*", "ARG LIVES_AS=\"somebody\""], lines[3..8]);
    }

    [Fact]
    public void Apt_targets_sources_keys_and_proxies()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            apt:
              packages:
                default: [curl]
                bookworm-backports: [git=1:2.39.0-1, jq]
              sources:
                - url: http://apt.example.org/debian
                  distribution: bookworm-wikimedia
                  components: [main, thirdparty]
              proxies:
                - http://proxy.example.org:8080
                - { url: http://other.example.org:3128, source: https://apt.example.org }
            variants:
              test: {}
            """;
        var lines = T.Lines(yaml, "test");
        Assert.Equal(
        [
            "ENV DEBIAN_FRONTEND=\"noninteractive\"",
            "RUN printf '%s\\n' 'Acquire::http::Proxy \"http://proxy.example.org:8080\";' 'Acquire::https::Proxy::apt.example.org \"http://other.example.org:3128\";' > \"/etc/apt/apt.conf.d/99blubber-proxies\" && chmod 0644 \"/etc/apt/apt.conf.d/99blubber-proxies\"",
            "RUN apt-get update && apt-get install -y \"ca-certificates\" && printf '%s\\n' 'deb http://apt.example.org/debian bookworm-wikimedia main thirdparty' > \"/etc/apt/sources.list.d/99blubber.list\"",
            "RUN apt-get update && apt-get install -y -t \"bookworm-backports\" \"git=1:2.39.0-1\" \"jq\" && apt-get install -y \"curl\" && rm -rf /var/lib/apt/lists/* && rm -f \"/etc/apt/apt.conf.d/99blubber-proxies\"",
        ], lines[3..7]);
    }

    [Fact]
    public void Apt_signed_by_key_is_written_to_a_keyring_named_by_its_hash()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            apt:
              sources:
                - url: https://apt.example.org/debian
                  distribution: bookworm
                  signed-by: |
                    -----BEGIN PGP PUBLIC KEY BLOCK-----
                    mQINBF
                    -----END PGP PUBLIC KEY BLOCK-----
            variants:
              test: {}
            """;
        var key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBF\n-----END PGP PUBLIC KEY BLOCK-----\n";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        var lines = T.Lines(yaml, "test");
        Assert.Contains($"RUN mkdir -p \"/etc/apt/keyrings\" && printf '%s\\n' '-----BEGIN PGP PUBLIC KEY BLOCK-----' 'mQINBF' '-----END PGP PUBLIC KEY BLOCK-----' > \"/etc/apt/keyrings/{hash}.asc\" && chmod 0644 \"/etc/apt/keyrings/{hash}.asc\"", lines);
        Assert.Contains($"RUN apt-get update && apt-get install -y \"ca-certificates\" && printf '%s\\n' 'deb [signed-by=/etc/apt/keyrings/{hash}.asc] https://apt.example.org/debian bookworm' > \"/etc/apt/sources.list.d/99blubber.list\"", lines);
        Assert.Contains("RUN rm -rf /var/lib/apt/lists/*", lines);
    }

    [Fact]
    public void Node_requirements_install_before_the_source_copy()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                node: { requirements: [package.json, package-lock.json], use-npm-ci: true }
                copies: [local]
                entrypoint: [npm, test]
            """;
        Assert.Equal(T.Expected("test",
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"package.json\", \"package-lock.json\", \"./\"]\nRUN npm ci\nCOPY --chown=$LIVES_UID:$LIVES_GID [\".\", \".\"]",
            "ENV NODE_ENV=\"\"\nENTRYPOINT [\"npm\", \"test\"]"), T.Df(yaml, "test"));
    }

    [Theory]
    [InlineData("false", "RUN npm install --only=production && npm dedupe")]
    [InlineData("true", "RUN npm install --only=production && npm dedupe || echo \"WARNING: npm dedupe failed, continuing anyways\"")]
    public void Node_production_dedupes(string allow, string expected)
    {
        var yaml = $"version: v4\nbase: debian:bookworm\nvariants:\n  production:\n    node: {{ requirements: [package.json], env: production, allow-dedupe-failure: {allow} }}\n";
        var lines = T.Lines(yaml, "production");
        Assert.Contains(expected, lines);
        Assert.Contains("ENV NODE_ENV=\"production\"", lines);
    }

    [Fact]
    public void Node_env_without_requirements_only_sets_NODE_ENV()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    node: { env: test }\n";
        Assert.Equal(T.Expected("test", "", "ENV NODE_ENV=\"test\""), T.Df(yaml, "test"));
    }

    [Fact]
    public void Php_composer_install()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    php: { requirements: [composer.json, composer.lock], production: true }\n";
        Assert.Equal(T.Expected("test",
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"composer.json\", \"composer.lock\", \"./\"]\nRUN composer install \"--no-scripts\" \"--no-dev\"", ""),
            T.Df(yaml, "test"));
    }

    [Fact]
    public void Python_pip_builder_with_venv_and_pins()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                python:
                  version: python3
                  requirements: [requirements.txt, requirements-test.txt, {from: local, source: conf/extra.txt}]
                  no-deps: true
                  pip-version: "23.0"
                  tox-version: "~=4.0"
            """;
        Assert.Equal(T.Expected("test",
            """
            COPY --chown=$LIVES_UID:$LIVES_GID ["requirements.txt", "requirements-test.txt", "./"]
            COPY --chown=$LIVES_UID:$LIVES_GID ["conf/extra.txt", "conf/"]
            RUN python3 -m venv "/opt/lib/venv"
            ENV PATH="/opt/lib/venv/bin:$PATH" VIRTUAL_ENV="/opt/lib/venv"
            RUN python3 -m pip install -U "setuptools!=60.9.0" && python3 -m pip install -U "wheel" "tox~=4.0" "pip==23.0"
            RUN python3 -m pip install --no-deps -r "requirements.txt" -r "requirements-test.txt" -r "conf/extra.txt"
            """, "RUN python3 -m pip check"), T.Df(yaml, "test"));
    }

    [Fact]
    public void Python_poetry_and_python2_pip_pin()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                python:
                  version: python2.7
                  requirements: [pyproject.toml, poetry.lock]
                  use-system-site-packages: true
                  poetry: { version: "==1.8.3", without: docs }
            """;
        var lines = T.Lines(yaml, "test");
        Assert.Contains("RUN python2.7 -m venv \"/opt/lib/venv\" \"--system-site-packages\"", lines);
        Assert.Contains("RUN python2.7 -m pip install -U \"setuptools!=60.9.0\" && python2.7 -m pip install -U \"wheel\" \"tox\" \"pip<21\"", lines);
        Assert.Contains("ENV POETRY_VIRTUALENVS_PATH=\"/opt/lib/poetry\"", lines);
        Assert.Contains("RUN python2.7 -m pip install -U \"poetry==1.8.3\" && mkdir -p \"/opt/lib/poetry\" && poetry install --no-root --without \"docs\"", lines);
    }

    [Fact]
    public void Python_is_inactive_without_requirements()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    python: { version: python3 }\n";
        Assert.Equal(T.Expected("test", "", ""), T.Df(yaml, "test"));
    }

    [Fact]
    public void Custom_builder_string_and_list_commands()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                builders:
                  - custom: { command: "make deps && echo $HOME", requirements: [Makefile] }
                  - custom: { command: [make, "build target", "$OUT"] }
            """;
        Assert.Equal(T.Expected("test",
            """
            COPY --chown=$LIVES_UID:$LIVES_GID ["Makefile", "./"]
            RUN make deps && echo $HOME
            RUN make "build target" "$OUT"
            """, ""), T.Df(yaml, "test"));
    }

    [Fact]
    public void Standalone_builders_run_node_php_python_builder()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                builder: { command: [echo, custom] }
                php: { requirements: [composer.json] }
                node: { requirements: [package.json] }
            """;
        var runs = T.Lines(yaml, "test").Where(l => l.StartsWith("RUN ") && !l.Contains("getent")).ToList();
        Assert.Equal(["RUN npm install", "RUN composer install \"--no-scripts\"", "RUN echo \"custom\""], runs);
    }

    [Fact]
    public void Copies_from_another_variant_build_a_stage_first()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              build:
                lives: { in: /src }
                builder: { command: [make] }
                copies: [local]
              production:
                copies:
                  - { from: build }
                  - { from: build, source: out/app, destination: bin/app }
                  - { from: build, source: /etc/app.conf }
                  - { from: docker-registry.wikimedia.org/tools:1.0, source: /usr/bin/tool, destination: /usr/local/bin/tool }
            """;
        var df = T.Df(yaml, "production");
        Assert.StartsWith("FROM debian:bookworm AS build\n", df);
        var stages = df.Split("\n\n");
        Assert.Equal(3, stages.Length);
        Assert.DoesNotContain("LABEL", stages[0]);
        Assert.StartsWith("FROM debian:bookworm AS production\n", stages[1]);
        Assert.Contains(
            """
            COPY --chown=$LIVES_UID:$LIVES_GID --from=build ["/srv/app", "/srv/app"]
            COPY --chown=$LIVES_UID:$LIVES_GID --from=build ["/opt/lib", "/opt/lib"]
            COPY --chown=$LIVES_UID:$LIVES_GID --from=build ["/src/out/app", "bin/app"]
            COPY --chown=$LIVES_UID:$LIVES_GID --from=build ["/etc/app.conf", "/etc/app.conf"]
            COPY --chown=$LIVES_UID:$LIVES_GID --from=docker-registry.wikimedia.org/tools:1.0 ["/usr/bin/tool", "/usr/local/bin/tool"]
            USER $RUNS_UID
            """, stages[1]);
        Assert.Equal("LABEL blubber.variant=\"production\" blubber.version=\"test\"\n", stages[2]);
    }

    [Fact]
    public void Copy_dependencies_are_ordered_leaves_first()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              final: { copies: [middle, leaf] }
              middle: { copies: [leaf] }
              leaf: {}
            """;
        var froms = T.Lines(yaml, "final").Where(l => l.StartsWith("FROM ")).ToList();
        Assert.Equal(["FROM debian:bookworm AS leaf", "FROM debian:bookworm AS middle", "FROM debian:bookworm AS final"], froms);
    }

    [Fact]
    public void Scratch_variant_gets_only_root_owned_copies_and_entrypoint()
    {
        const string yaml = """
            version: v4
            variants:
              build: { base: golang:1.22, copies: [local], builder: { command: [go, build, -o, /out/app] } }
              final:
                copies: [{ from: build, source: /out/app, destination: /app }]
                entrypoint: [/app]
            """;
        var stages = T.Df(yaml, "final").Split("\n\n");
        Assert.Equal("FROM scratch AS final\nCOPY --from=build [\"/out/app\", \"/app\"]\nENTRYPOINT [\"/app\"]", stages[1]);
    }

    [Fact]
    public void Local_copy_with_source_destination_and_file_source()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                copies:
                  - { from: local, source: src/ }
                  - { from: local, source: config.yaml, destination: /etc/app/config.yaml }
            """;
        var lines = T.Lines(yaml, "test");
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID [\"src/\", \"src/\"]", lines);
        Assert.Contains("COPY --chown=$LIVES_UID:$LIVES_GID [\"config.yaml\", \"/etc/app/config.yaml\"]", lines);
    }

    [Fact]
    public void Exclude_expands_to_the_surviving_context_entries()
    {
        const string yaml = """
            version: v4
            base: debian:bookworm
            variants:
              test:
                copies:
                  - { from: local, exclude: ["**/*.swp", node_modules, "!keep.swp"] }
            """;
        var options = T.Options with
        {
            ContextFiles = ["a.js", "b.swp", "keep.swp", "lib/x.js", "lib/x.swp", "lib/sub/y.js", "node_modules/m/index.js", "docs/readme.md"],
        };
        var copies = T.Lines(yaml, "test", options).Where(l => l.StartsWith("COPY")).ToList();
        Assert.Equal(
        [
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"a.js\", \"keep.swp\", \"./\"]",
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"docs/\", \"docs/\"]",
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"lib/x.js\", \"lib/\"]",
            "COPY --chown=$LIVES_UID:$LIVES_GID [\"lib/sub/\", \"lib/sub/\"]",
        ], copies);
    }

    [Fact]
    public void Exclude_on_a_subdirectory_source_is_relative_to_it()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    copies: [{ from: local, source: src, destination: app, exclude: [\"*.test.js\"] }]\n";
        var options = T.Options with { ContextFiles = ["src/a.js", "src/a.test.js", "other.js"] };
        var copies = T.Lines(yaml, "test", options).Where(l => l.StartsWith("COPY")).ToList();
        Assert.Equal(["COPY --chown=$LIVES_UID:$LIVES_GID [\"src/a.js\", \"app/\"]"], copies);
    }

    [Fact]
    public void Entrypoint_and_newline_free_quoting_prevent_injection()
    {
        const string yaml = "version: v4\nbase: debian:bookworm\nvariants:\n  test:\n    entrypoint: [\"say \\\"hi\\\"\", 'a\\b']\n";
        Assert.Contains("ENTRYPOINT [\"say \\\"hi\\\"\", \"a\\\\b\"]", T.Lines(yaml, "test"));
    }

    [Fact]
    public void Plan_has_the_five_phases_in_order()
    {
        var plan = Blubber.Plan("version: v4\nbase: debian:bookworm\nvariants:\n  test: {}\n", "test", options: T.Options);
        Assert.Equal([Phase.Privileged, Phase.PrivilegeDropped, Phase.PreInstall, Phase.Install, Phase.PostInstall],
            plan.Target.Phases.Select(p => p.Phase));
        Assert.Equal([new("blubber.variant", "test"), new KeyValuePair<string, string>("blubber.version", "test")], plan.Labels);
    }
}
