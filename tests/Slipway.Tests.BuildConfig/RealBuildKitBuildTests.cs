using System.Diagnostics;
using System.Text.Json;
using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>
/// Builds compiled Dockerfiles with dockerd's BuildKit and its built-in Dockerfile frontend (Debian's docker CLI 20.10
/// with DOCKER_BUILDKIT=1, no `# syntax=` image, no network) on the local base image: a builder script, a context
/// mount, a cache mount that persists across builds of one scope and not into another, an excluding copy from another
/// variant, a multi-line entry point, run-variant with its args and env, and the pinned version's label. Needs
/// `Slipway__BaseImage` and `Docker__Endpoint` (`./slipway test` provides them).
/// </summary>
public sealed class RealBuildKitBuildTests : IDisposable
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private readonly DirectoryInfo _context = Directory.CreateTempSubdirectory("blubber-buildkit-");
    private readonly List<string> _tags = [];

    private const string Yaml = """
        # syntax=docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v0.22.0
        version: v4
        base: {{BASE}}
        arguments: { RUN_ID: "0" }
        variants:
          build:
            builder:
              script: |
                set -e
                mkdir -p out/docs out/tmp
                echo "it's 100% \o/ $RUN_ID" > out/built.txt
                echo doc > out/docs/a.md
                echo keep > out/docs/keep.md
                echo scratch > out/tmp/x.txt
                cp /mnt/ctx/app.sh out/app.sh
                echo "run $RUN_ID" >> "$HOME/.cache/runs"
                cp "$HOME/.cache/runs" out/cache-runs
                cp "$0" out/script.txt
                # {{LONG}}
              caches: [$HOME/.cache]
              mounts: [{ from: local, destination: /mnt/ctx }]
          test:
            python: { version: python3, requirements: [], use-system-flag: true }
            copies:
              - { from: build, source: out/, destination: out/, exclude: ["**/*.md", "!**/keep.md", tmp] }
            entrypoint: [sh, "-c", "echo \"$MODE $1\" > /tmp/ran.txt\ncat /tmp/ran.txt", ep]
        """;

    [Fact]
    public void BuildKit_features_build_as_blubber_builds_them()
    {
        var baseImage = Environment.GetEnvironmentVariable("Slipway__BaseImage");
        var endpoint = Environment.GetEnvironmentVariable("Docker__Endpoint");
        if (string.IsNullOrEmpty(baseImage) || string.IsNullOrEmpty(endpoint))
            Assert.Fail("Slipway__BaseImage and Docker__Endpoint must be set: run `./slipway test`, or `./slipway infra up` and export what `./slipway infra env` prints");
        File.WriteAllText(Path.Combine(_context.FullName, "app.sh"), "#!/bin/sh\necho app\n");
        // The python builder needs the network (pip); this test has none, so it checks the flag's warning and drops the builder.
        // A script longer than one Dockerfile line, with non-ASCII text: it must arrive byte for byte.
        var longLine = string.Concat(Enumerable.Repeat("ü€ '%\\ ", 700));
        var yaml = Yaml.Replace("{{LONG}}", longLine).Replace("{{BASE}}", baseImage).Replace("    python: { version: python3, requirements: [], use-system-flag: true }\n", "    python: { use-system-flag: true }\n");

        var first = Compile(yaml, "test", "one", scope: $"test/{_id}/a");
        Assert.Contains(first.Warnings, w => w.StartsWith("variants.test.python.use-system-flag (line ", StringComparison.Ordinal)
            && w.Contains("\"use-system-flag\" was removed in Blubber v0.23.0 and is accepted because this file pins v0.22.0", StringComparison.Ordinal));
        Assert.Equal("v0.22.0", first.PinnedBlubberVersion);
        var image = Build(first, "test", endpoint!);

        using (var config = JsonDocument.Parse(Docker(endpoint!, null, "image", "inspect", "-f", "{{json .Config}}", image)))
        {
            var labels = config.RootElement.GetProperty("Labels");
            Assert.Equal("v0.22.0", labels.GetProperty("blubber.version").GetString());
            Assert.Equal("buildkit-test", labels.GetProperty("slipway.compiler").GetString());
            Assert.Equal(["sh", "-c", "echo \"$MODE $1\" > /tmp/ran.txt\ncat /tmp/ran.txt", "ep"],
                config.RootElement.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        }
        Assert.Equal(
            """
            ./out 65533:65533
            ./out/app.sh 65533:65533
            ./out/built.txt 65533:65533
            ./out/cache-runs 65533:65533
            ./out/docs 65533:65533
            ./out/docs/keep.md 65533:65533
            ./out/script.txt 65533:65533
            it's 100% \o/ one
            run one
            ci extra arg
            
            """, Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                "stat -c '%n %u:%g' $(find . -mindepth 1 | sort) && cat out/built.txt out/cache-runs /tmp/ran.txt"));
        var script = Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "cat", image, "out/script.txt");
        Assert.StartsWith("#!/bin/sh\nset -e\n", script);
        Assert.EndsWith($"cp \"$0\" out/script.txt\n# {longLine}\n", script);
        // The script never lands in the image, nor do the helper stages' directories.
        Assert.Equal("0\n", Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
            "ls -a / | grep -c -e slipway -e '^[0-9a-f]\\{64\\}$' || true"));
        // The multi-line entry point runs as written.
        Assert.Equal(" \n", Docker(endpoint!, null, "run", "--rm", "--network", "none", image));

        // Same scope, a new build (a changed argument reruns the script): the cache holds the first run's line.
        var second = Build(Compile(yaml, "test", "two", scope: $"test/{_id}/a"), "test", endpoint!);
        Assert.Equal("run one\nrun two\n", Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "cat", second, "out/cache-runs"));
        // Another project's scope never sees it.
        var other = Build(Compile(yaml, "test", "three", scope: $"test/{_id}/b"), "test", endpoint!);
        Assert.Equal("run three\n", Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "cat", other, "out/cache-runs"));
    }

    private static CompileResult Compile(string yaml, string variant, string runId, string scope) =>
        Blubber.Compile(yaml, variant, options: new CompileOptions
        {
            Version = "buildkit-test",
            CacheScope = scope,
            BuildArgs = new Dictionary<string, string> { ["RUN_ID"] = runId },
            RunVariant = true,
            EntrypointArgs = ["extra arg"],
            RunVariantEnv = new Dictionary<string, string> { ["MODE"] = "ci" },
        });

    private string Build(CompileResult compiled, string target, string endpoint)
    {
        var tag = $"slipway-blubber-buildkit-{target}:{_id}-{_tags.Count}";
        _tags.Add(tag);
        List<string> args = ["build", "--progress", "plain", "--network", "none", "--target", target, "-t", tag, "-f", "-"];
        foreach (var (k, v) in compiled.BuildArgs) args.AddRange(["--build-arg", $"{k}={v}"]);
        Docker(endpoint, compiled.Dockerfile, [.. args, _context.FullName]);
        return tag;
    }

    // Debian's docker CLI (20.10) builds with BuildKit without buildx; the newer CLI first on PATH would need the plugin.
    private static string Docker(string endpoint, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo(File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOCKER_HOST"] = endpoint;
        info.Environment["DOCKER_BUILDKIT"] = "1";
        using var p = Process.Start(info)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); Assert.Fail($"docker {args[0]} timed out"); }
        if (p.ExitCode != 0) Assert.Fail($"docker {string.Join(' ', args)} failed ({p.ExitCode}):\n{stderr.Result}\n{stdout}\n{stdin}");
        return stdout;
    }

    public void Dispose()
    {
        var endpoint = Environment.GetEnvironmentVariable("Docker__Endpoint");
        if (!string.IsNullOrEmpty(endpoint))
            foreach (var tag in _tags)
                try { Docker(endpoint, null, "rmi", "-f", tag); } catch { /* best effort */ }
        _context.Delete(recursive: true);
    }
}
