using System.Diagnostics;
using System.Text.Json;
using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>
/// Builds a compiled Dockerfile with the real engine (the docker CLI, classic builder, no network) on the
/// local base image, then inspects the image. Needs `Slipway__BaseImage` and `Docker__Endpoint`, which
/// `./slipway test` (or `./slipway infra up` + `infra env`) provides; without them the test fails.
/// </summary>
public sealed class RealDockerBuildTests : IDisposable
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private readonly DirectoryInfo _context = Directory.CreateTempSubdirectory("blubber-realdocker-");
    private readonly List<string> _tags = [];

    [Fact]
    public void Compiled_dockerfile_builds_and_the_image_has_blubbers_guarantees()
    {
        var baseImage = Environment.GetEnvironmentVariable("Slipway__BaseImage");
        var endpoint = Environment.GetEnvironmentVariable("Docker__Endpoint");
        if (string.IsNullOrEmpty(baseImage) || string.IsNullOrEmpty(endpoint))
            Assert.Fail("Slipway__BaseImage and Docker__Endpoint must be set: run `./slipway test`, or `./slipway infra up` and export what `./slipway infra env` prints");

        var ctx = _context.FullName;
        File.WriteAllText(Path.Combine(ctx, "greet.sh"), "#!/bin/sh\necho \"$GREETING from $(id -u) in $(pwd)\" \"$@\"\n");
        File.WriteAllText(Path.Combine(ctx, "deps.txt"), "dependency list\n");
        File.WriteAllText(Path.Combine(ctx, "junk.tmp"), "excluded by exclude\n");
        File.WriteAllText(Path.Combine(ctx, "README.md"), "excluded by .dockerignore\n");
        File.WriteAllText(Path.Combine(ctx, ".dockerignore"), "/README.md\n");
        File.SetUnixFileMode(Path.Combine(ctx, "greet.sh"), (UnixFileMode)0b111_101_101);
        var yaml = $$"""
            version: v4
            base: {{baseImage}}
            runs: { environment: { GREETING: hello } }
            variants:
              build:
                builder:
                  requirements: [deps.txt]
                  command: "mkdir -p out && cp deps.txt out/built.txt && echo built >> out/built.txt"
              test:
                copies:
                  - { from: local, exclude: ["*.tmp"] }
                  - { from: build, source: out/built.txt, destination: bin/built.txt }
                entrypoint: [./greet.sh, arg]
            """;
        var options = new CompileOptions { Version = "realdocker", ContextFiles = Blubber.ListContext(ctx), BuildKit = false };
        var dockerfile = Blubber.Dockerfile(yaml, "test", options: options);

        var image = Build(dockerfile, "test", endpoint!);
        Build(dockerfile, "build", endpoint!); // tag the dependency stage too, so cleanup removes its layers

        using var config = JsonDocument.Parse(Docker(endpoint!, null, "image", "inspect", "-f", "{{json .Config}}", image));
        var c = config.RootElement;
        Assert.Equal("900", c.GetProperty("User").GetString());
        Assert.Equal("/srv/app", c.GetProperty("WorkingDir").GetString());
        Assert.Equal(["./greet.sh", "arg"], c.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.True(!c.TryGetProperty("Cmd", out var cmd) || cmd.ValueKind == JsonValueKind.Null, "ENTRYPOINT must clear Cmd");
        Assert.Equal("test", c.GetProperty("Labels").GetProperty("blubber.variant").GetString());
        Assert.Equal("realdocker", c.GetProperty("Labels").GetProperty("blubber.version").GetString());
        var env = c.GetProperty("Env").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("GREETING=hello", env);
        Assert.Contains("HOME=/home/runuser", env);

        var listing = Docker(endpoint!, null, "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
            "stat -c '%n %u:%g' $(find . -mindepth 1 | sort) && cat bin/built.txt && id -un");
        Assert.Equal(
            """
            ./.dockerignore 65533:65533
            ./bin 65533:65533
            ./bin/built.txt 65533:65533
            ./deps.txt 65533:65533
            ./greet.sh 65533:65533
            dependency list
            built
            runuser

            """, listing);

        Assert.Equal("hello from 900 in /srv/app arg\n", Docker(endpoint!, null, "run", "--rm", "--network", "none", image));
    }

    private string Build(string dockerfile, string target, string endpoint)
    {
        var tag = $"slipway-blubber-realdocker-{target}:{_id}";
        _tags.Add(tag);
        Docker(endpoint, dockerfile, "build", "--network", "none", "--target", target, "-t", tag, "-f", "-", _context.FullName);
        return tag;
    }

    private static string Docker(string endpoint, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOCKER_HOST"] = endpoint;
        info.Environment["DOCKER_BUILDKIT"] = "0"; // the classic builder, as the builder service's Engine API uses
        using var p = Process.Start(info)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); Assert.Fail($"docker {args[0]} timed out"); }
        if (p.ExitCode != 0) Assert.Fail($"docker {string.Join(' ', args)} failed ({p.ExitCode}):\n{stderr.Result}\n{stdout}");
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
