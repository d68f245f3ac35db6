using System.CommandLine;
using Slipway.BuildConfig;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway blubber [--policy FILE] CONFIG VARIANT`: renders a Blubber v4 config's variant as a
/// Dockerfile on stdout, for a build whose context is the current directory
/// (`slipway blubber .pipeline/blubber.yaml test | docker build -f - .`). A refused config prints
/// its message on stderr and exits with Blubber's code (2 parse, 3 expansion, 4 validation, 5 policy
/// load, 6 policy violation).
/// </summary>
internal static class BlubberCommand
{
    public static Command Create()
    {
        var policy = new Option<string?>("--policy", "-p") { Description = "policy file (YAML) enforced before compiling" };
        var config = new Argument<string>("CONFIG") { Description = "Blubber v4 config, e.g. .pipeline/blubber.yaml" };
        var variant = new Argument<string>("VARIANT") { Description = "variant to compile, e.g. test or production" };
        var command = new Command("blubber", "render a Blubber v4 config variant as a Dockerfile (context: the current directory)")
        {
            policy, config, variant,
        };
        command.SetAction(parse =>
        {
            try
            {
                var yaml = ReadLimited(parse.GetValue(config)!, BlubberErrorKind.Parse);
                var rules = parse.GetValue(policy) is { } p ? Policy.Parse(ReadLimited(p, BlubberErrorKind.PolicyLoad)) : null;
                var options = new CompileOptions { ContextFiles = Blubber.ListContext(Environment.CurrentDirectory) };
                Console.Out.Write(Blubber.Dockerfile(yaml, parse.GetValue(variant)!, rules, options));
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
