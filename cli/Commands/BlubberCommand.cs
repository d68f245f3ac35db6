using System.CommandLine;
using Slipway.BuildConfig;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway blubber [--policy FILE] [options] CONFIG VARIANT`: renders a Blubber v4 config's variant as a
/// Dockerfile on stdout, for a build whose context is the current directory
/// (`slipway blubber .pipeline/blubber.yaml test | DOCKER_BUILDKIT=1 docker build -f - .`). The rendering is for
/// BuildKit's built-in Dockerfile frontend (`--classic` for the classic builder, which refuses builder scripts,
/// mounts, caches and excluding copies from variants). Warnings and the build args to pass go to stderr. A refused
/// config prints its message on stderr and exits with Blubber's code (2 parse, 3 expansion, 4 validation, 5 policy
/// load, 6 policy violation).
/// </summary>
internal static class BlubberCommand
{
    public static Command Create()
    {
        var policy = new Option<string?>("--policy", "-p") { Description = "policy file (YAML) enforced before compiling" };
        var config = new Argument<string>("CONFIG") { Description = "Blubber v4 config, e.g. .pipeline/blubber.yaml" };
        var variant = new Argument<string>("VARIANT") { Description = "variant to compile, e.g. test or production" };
        var classic = new Option<bool>("--classic") { Description = "render for the classic builder (refuses BuildKit-only features)" };
        var cacheScope = new Option<string>("--cache-scope") { Description = "prefix of every cache mount id (one per project)", DefaultValueFactory = _ => "slipway-cli" };
        var buildArgs = new Option<string[]>("--build-arg") { Description = "NAME=VALUE for a declared argument or LIVES_*/RUNS_* (repeatable)" };
        var runVariant = new Option<bool>("--run-variant") { Description = "run the variant's entry point as the last build step (Blubber's run-variant)" };
        var entrypointArgs = new Option<string?>("--entrypoint-args") { Description = "JSON array of extra entry point arguments for --run-variant" };
        var runVariantEnv = new Option<string?>("--run-variant-env") { Description = "JSON object of environment variables for the --run-variant step" };
        var command = new Command("blubber", "render a Blubber v4 config variant as a Dockerfile (context: the current directory)")
        {
            policy, classic, cacheScope, buildArgs, runVariant, entrypointArgs, runVariantEnv, config, variant,
        };
        command.SetAction(parse =>
        {
            try
            {
                var yaml = ReadLimited(parse.GetValue(config)!, BlubberErrorKind.Parse);
                var rules = parse.GetValue(policy) is { } p ? Policy.Parse(ReadLimited(p, BlubberErrorKind.PolicyLoad)) : null;
                var options = new CompileOptions
                {
                    ContextFiles = Blubber.ListContext(Environment.CurrentDirectory),
                    BuildKit = !parse.GetValue(classic),
                    CacheScope = parse.GetValue(cacheScope),
                    BuildArgs = ParseBuildArgs(parse.GetValue(buildArgs) ?? []),
                    RunVariant = parse.GetValue(runVariant),
                    EntrypointArgs = Json<List<string>>(parse.GetValue(entrypointArgs), "entrypoint-args"),
                    RunVariantEnv = Json<Dictionary<string, string>>(parse.GetValue(runVariantEnv), "run-variant-env"),
                };
                var result = Blubber.Compile(yaml, parse.GetValue(variant)!, rules, options);
                foreach (var warning in result.Warnings) Console.Error.WriteLine($"blubber: warning: {warning}");
                foreach (var (k, v) in result.BuildArgs) Console.Error.WriteLine($"blubber: pass --build-arg {k}={v}");
                Console.Out.Write(result.Dockerfile);
                return 0;
            }
            catch (BlubberException e)
            {
                Console.Error.WriteLine($"blubber: {e.Message}");
                return e.ExitCode;
            }
            catch (UnsafePathException e)
            {
                Console.Error.WriteLine($"blubber: {e.Message}");
                return 2; // the context cannot be read
            }
        });
        return command;
    }

    private static Dictionary<string, string> ParseBuildArgs(string[] pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new BlubberException(BlubberErrorKind.Parse, $"--build-arg \"{pair}\": expected NAME=VALUE");
            result[pair[..eq]] = pair[(eq + 1)..];
        }
        return result;
    }

    // As Blubber's build_opts.go: entrypoint-args is a JSON array of strings, run-variant-env a JSON object of strings.
    private static T? Json<T>(string? text, string name) where T : class
    {
        if (text is null) return null;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<T>(text) ?? throw new System.Text.Json.JsonException("null");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new BlubberException(BlubberErrorKind.Parse, $"Failed to parse {name}: {e.Message}");
        }
    }

    private static string ReadLimited(string path, BlubberErrorKind kind)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new BlubberException(kind, $"cannot read {path}: no such file");
            if (info.Length > Limits.Default.MaxFileBytes)
                throw new BlubberException(kind, $"cannot read {path}: larger than {Limits.Default.MaxFileBytes} bytes");
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BlubberException(kind, $"cannot read {path}: {e.Message}");
        }
    }
}
