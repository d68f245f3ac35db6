using Slipway.Builder.Building;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Every Blubber feature group built into a real image by the real engine (classic builder) from the local base
/// image, then the image inspected: config (user, entry point, environment, labels) and the files with owners.
/// </summary>
public sealed class ImageBuilderFeatureTests
{
    private static string Base => ImageBuildFixture.Base;

    private static void AssertBuilt(ImageBuildResult result)
    {
        Assert.True(result.Succeeded, $"build failed: {result.Reason}\n{result.OutputTail}\n{result.Dockerfile}");
        Assert.Matches("^sha256:[0-9a-f]{64}$", result.ImageId);
        Assert.True(result.SizeBytes > 0);
        Assert.True(File.Exists(result.LogPath));
    }

    /// <summary>Owner and path of every file under a directory, as the image holds them.</summary>
    private static async Task<string[]> FilesAsync(DockerTestScope scope, string image, string dir)
    {
        var (exit, output) = await scope.RunAsync(image, ["find", dir, "-printf", "%u:%g %p\\n"], user: "0");
        Assert.True(exit == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Files_are_owned_by_the_lives_user_and_the_image_runs_as_the_runs_user()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  defaults:
                    copies: [local]
                  custom:
                    lives: {"{"} as: owner, uid: 1234, gid: 1235, in: /app {"}"}
                    runs: {"{"} as: service, uid: 4321, gid: 4322 {"}"}
                    copies: [local]
                """,
            ["hello.sh"] = "#!/bin/sh\necho hello\n",
            ["lib/util.txt"] = "util\n",
        });

        var defaults = await f.BuildAsync(context, "defaults");
        AssertBuilt(defaults);
        var image = await scope.Docker.Images.InspectImageAsync(defaults.ImageId);
        Assert.Equal("900", image.Config.User);
        Assert.Equal("/srv/app", image.Config.WorkingDir);
        Assert.Contains("HOME=/home/runuser", image.Config.Env);
        Assert.Equal(
            // The generated Dockerfile travels in the context (BuildKit without a session), so COPY . . brings it along.
            ["somebody:somebody /srv/app", "somebody:somebody /srv/app/.pipeline", "somebody:somebody /srv/app/.pipeline/blubber.yaml",
             "somebody:somebody /srv/app/.slipway.Dockerfile", "somebody:somebody /srv/app/hello.sh", "somebody:somebody /srv/app/lib", "somebody:somebody /srv/app/lib/util.txt"],
            await FilesAsync(scope, defaults.ImageId!, "/srv/app"));
        Assert.Equal(["somebody:somebody /opt/lib"], await FilesAsync(scope, defaults.ImageId!, "/opt/lib"));
        var (_, ids) = await scope.RunAsync(defaults.ImageId!, ["id"]);
        Assert.Equal("uid=900(runuser) gid=900(runuser) groups=900(runuser)", ids.Trim());

        var custom = await f.BuildAsync(context, "custom");
        AssertBuilt(custom);
        var customImage = await scope.Docker.Images.InspectImageAsync(custom.ImageId);
        Assert.Equal("4321", customImage.Config.User);
        Assert.Equal("/app", customImage.Config.WorkingDir);
        Assert.Contains("owner:owner /app/hello.sh", await FilesAsync(scope, custom.ImageId!, "/app"));
        var (_, customIds) = await scope.RunAsync(custom.ImageId!, ["id"]);
        Assert.Equal("uid=4321(service) gid=4322(service) groups=4322(service)", customIds.Trim());
        // Neither user is root, and the app files are not writable by the runtime user.
        var (writeExit, _) = await scope.RunAsync(custom.ImageId!, ["sh", "-c", "echo x >> /app/hello.sh"]);
        Assert.NotEqual(0, writeExit);
    }

    [Fact]
    public async Task Entry_point_replaces_the_default_arguments_and_runs()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  test:
                    copies: [local]
                    entrypoint: [./hello.sh, --greeting, "hi there"]
                """,
            ["hello.sh"] = "#!/bin/sh\necho \"$@ from $(id -u) in $(pwd)\"\n",
        });

        var result = await f.BuildAsync(context, "test");
        AssertBuilt(result);
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageId);
        Assert.Equal(["./hello.sh", "--greeting", "hi there"], image.Config.Entrypoint);
        Assert.True(image.Config.Cmd is null or { Count: 0 }, "ENTRYPOINT clears the default arguments: " + string.Join(' ', image.Config.Cmd ?? []));
        var (exit, output) = await scope.RunAsync(result.ImageId!);
        Assert.Equal(0, exit);
        Assert.Equal("--greeting hi there from 900 in /srv/app", output.Trim());
    }

    [Fact]
    public async Task Runs_environment_is_in_the_image_and_seen_by_builder_commands()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                runs:
                  environment: {"{"} SHARED: top {"}"}
                variants:
                  test:
                    runs:
                      environment:
                        GREETING: "hello world"
                        APP_PATH: "/srv/app/bin:${"{"}PATH{"}"}"
                    builder:
                      command: [sh, -c, "echo \"$GREETING/$SHARED\" > seen-at-build.txt"]
                """,
        });

        var result = await f.BuildAsync(context, "test");
        AssertBuilt(result);
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageId);
        Assert.Contains("GREETING=hello world", image.Config.Env);
        Assert.Contains("SHARED=top", image.Config.Env);
        Assert.Contains(image.Config.Env, e => e.StartsWith("APP_PATH=/srv/app/bin:/usr/local/sbin:", StringComparison.Ordinal));
        var (_, seen) = await scope.RunAsync(result.ImageId!, ["cat", "/srv/app/seen-at-build.txt"]);
        Assert.Equal("hello world/top", seen.Trim());
    }

    [Fact]
    public async Task Labels_carry_the_variant_the_version_and_the_run()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  production: {"{"}{"}"}
                """,
        });
        var revision = new string('a', 40);
        var result = await f.BuildAsync(context, "production", labels: new Dictionary<string, string>
        {
            ["slipway.run"] = "run-" + scope.Id, ["slipway.project"] = "demo/service", ["slipway.revision"] = revision,
        });
        AssertBuilt(result);
        Assert.Equal(scope.Tag("production"), result.ImageRef);
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageRef);
        Assert.Equal(result.ImageId, image.ID);
        var labels = image.Config.Labels;
        Assert.Equal("production", labels["blubber.variant"]);
        Assert.StartsWith("slipway-", labels["blubber.version"]);
        Assert.Equal("run-" + scope.Id, labels["slipway.run"]);
        Assert.Equal("demo/service", labels["slipway.project"]);
        Assert.Equal(revision, labels["slipway.revision"]);
        Assert.Equal(scope.Id, labels[DockerTestScope.LabelKey]);
    }

    [Fact]
    public async Task Copies_from_another_variant_bring_its_files_and_only_those()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  build:
                    builder:
                      command: [sh, -c, "mkdir -p dist && cat src.txt src.txt > dist/app.bin && echo lib > /opt/lib/shared.txt"]
                      requirements: [src.txt]
                  production:
                    copies:
                      - from: build
                        source: /srv/app/dist/app.bin
                        destination: bin/app.bin
                  bundle:
                    copies: [build]
                """,
            ["src.txt"] = "source\n",
        });

        var production = await f.BuildAsync(context, "production");
        AssertBuilt(production);
        Assert.Equal(["somebody:somebody /srv/app", "somebody:somebody /srv/app/bin", "somebody:somebody /srv/app/bin/app.bin"],
            await FilesAsync(scope, production.ImageId!, "/srv/app"));
        var (_, content) = await scope.RunAsync(production.ImageId!, ["cat", "/srv/app/bin/app.bin"]);
        Assert.Equal("source\nsource\n", content);
        var image = await scope.Docker.Images.InspectImageAsync(production.ImageId);
        Assert.Equal("production", image.Config.Labels["blubber.variant"]);

        // Shorthand: the other variant's whole working directory and /opt/lib.
        var bundle = await f.BuildAsync(context, "bundle");
        AssertBuilt(bundle);
        var files = await FilesAsync(scope, bundle.ImageId!, "/srv/app");
        Assert.Contains("somebody:somebody /srv/app/dist/app.bin", files);
        Assert.Contains("somebody:somebody /srv/app/src.txt", files);
        Assert.Contains("somebody:somebody /opt/lib/shared.txt", await FilesAsync(scope, bundle.ImageId!, "/opt/lib"));
    }

    [Fact]
    public async Task Local_copies_honour_dockerignore_and_exclude()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  test:
                    copies:
                      - from: local
                        source: .
                        destination: .
                        exclude: ["**/*.tmp", "docs/drafts", "!docs/drafts/keep.md"]
                """,
            [".dockerignore"] = "/README.md\nsecrets/\n",
            ["README.md"] = "readme\n",
            ["secrets/key"] = "secret\n",
            ["app.py"] = "print(1)\n",
            ["cache.tmp"] = "tmp\n",
            ["src/mod.py"] = "x\n",
            ["src/mod.tmp"] = "tmp\n",
            ["docs/index.md"] = "docs\n",
            ["docs/drafts/wip.md"] = "wip\n",
            ["docs/drafts/keep.md"] = "keep\n",
            ["empty"] = null,
        });

        var result = await f.BuildAsync(context, "test");
        AssertBuilt(result);
        var files = (await FilesAsync(scope, result.ImageId!, "/srv/app")).Select(l => l.Split(' ')[1]).ToArray();
        // .dockerignore keeps README.md and secrets/ out of the context; exclude drops *.tmp and docs/drafts but keep.md.
        Assert.Equal(
            ["/srv/app", "/srv/app/.dockerignore", "/srv/app/.pipeline", "/srv/app/.pipeline/blubber.yaml", "/srv/app/app.py",
             "/srv/app/docs", "/srv/app/docs/drafts", "/srv/app/docs/drafts/keep.md", "/srv/app/docs/index.md", "/srv/app/src", "/srv/app/src/mod.py"],
            files);
        // The generated Dockerfile never lands in the image.
        Assert.DoesNotContain(files, p => p.Contains("Dockerfile", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dockerignore_applies_to_a_plain_local_copy()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  test:
                    copies: [local]
                """,
            [".dockerignore"] = "/README.md\n*.log\n.dockerignore\n",
            ["README.md"] = "readme\n",
            ["debug.log"] = "log\n",
            ["main.sh"] = "#!/bin/sh\n",
        });

        var result = await f.BuildAsync(context, "test");
        AssertBuilt(result);
        Assert.Equal(
            // .dockerignore ignored itself; the generated Dockerfile travels in the context (BuildKit without a session).
            ["somebody:somebody /srv/app", "somebody:somebody /srv/app/.pipeline", "somebody:somebody /srv/app/.pipeline/blubber.yaml",
             "somebody:somebody /srv/app/.slipway.Dockerfile", "somebody:somebody /srv/app/main.sh"],
            await FilesAsync(scope, result.ImageId!, "/srv/app"));
    }

    [Fact]
    public async Task Builder_requirements_layers_are_reused_when_only_source_changes()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var files = new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  test:
                    builder:
                      # Stands in for a dependency install: its result records when it ran.
                      command: [sh, -c, "cp deps.txt installed.txt && date +%s%N > installed-at && echo {scope.Id} > /dev/null"]
                      requirements: [deps.txt]
                    copies: [local]
                    entrypoint: [cat, installed-at, main.txt]
                """,
            ["deps.txt"] = "dep==1.0\n",
            ["main.txt"] = "version 1\n",
        };
        var first = await f.BuildAsync(f.Context(files), "test", tag: scope.Tag("one"));
        AssertBuilt(first);

        files["main.txt"] = "version 2\n"; // a new revision: same requirements, different source
        var second = await f.BuildAsync(f.Context(files), "test", tag: scope.Tag("two"));
        AssertBuilt(second);

        var (_, out1) = await scope.RunAsync(first.ImageId!);
        var (_, out2) = await scope.RunAsync(second.ImageId!);
        var lines1 = out1.Trim().Split('\n');
        var lines2 = out2.Trim().Split('\n');
        Assert.Equal("version 1", lines1[1]);
        Assert.Equal("version 2", lines2[1]);
        Assert.Equal(lines1[0], lines2[0]); // the install step did not run again
        // BuildKit's status stream: the install step came from the layer cache, the source copy did not.
        var install = Assert.Single(second.Steps, s => s.Name.Contains("RUN", StringComparison.Ordinal) && s.Name.Contains("cp deps.txt", StringComparison.Ordinal));
        Assert.True(install.Cached, $"install step not cached: {install}");
        Assert.All(second.Steps.Where(s => s.Name.Contains("RUN", StringComparison.Ordinal)), s => Assert.True(s.Cached, $"not cached: {s.Name}"));
        Assert.Contains(second.Steps, s => s.Name.Contains("] COPY ", StringComparison.Ordinal) && !s.Cached);
        var firstInstall = Assert.Single(first.Steps, s => s.Name == install.Name);
        Assert.False(firstInstall.Cached);
        Assert.NotNull(firstInstall.Duration);

        // The layers up to and including the install are the same layers.
        var layers1 = (await scope.Docker.Images.InspectImageAsync(first.ImageId)).RootFS.Layers;
        var layers2 = (await scope.Docker.Images.InspectImageAsync(second.ImageId)).RootFS.Layers;
        var shared = layers1.Zip(layers2).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(shared >= layers1.Count - 1 && shared < layers1.Count, $"shared {shared} of {layers1.Count} layers");
    }

    [Fact]
    public async Task A_node_builder_installs_its_requirements_before_the_source()
    {
        // node and npm come from the machine's Debian mirror (through the build egress proxy); the package has no
        // dependencies from the npm registry, so `npm install` itself needs no network.
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                apt: {"{"} packages: [nodejs, npm] {"}"}
                variants:
                  test:
                    node: {"{"} requirements: [package.json, package-lock.json], env: production {"}"}
                    copies: [local]
                    entrypoint: [node, index.js]
                """,
            ["package.json"] = """{"name": "demo", "version": "1.0.0", "private": true}""",
            ["package-lock.json"] = """{"name": "demo", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "demo", "version": "1.0.0"}}}""",
            ["index.js"] = "console.log(`node ${process.version} env ${process.env.NODE_ENV}`);\n",
        });

        var result = await f.BuildAsync(context, "test", timeLimit: TimeSpan.FromMinutes(15));
        AssertBuilt(result);
        Assert.Contains(f.Lines, l => l.Contains("npm install", StringComparison.Ordinal));
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageId);
        Assert.Contains("NODE_ENV=production", image.Config.Env);
        var (exit, output) = await scope.RunAsync(result.ImageId!);
        Assert.Equal(0, exit);
        Assert.Matches(@"^node v\d+\.\d+\.\d+ env production$", output.Trim());
    }
}
