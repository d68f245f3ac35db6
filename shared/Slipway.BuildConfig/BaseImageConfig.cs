namespace Slipway.BuildConfig;

/// <summary>
/// The parts of a base image's config that Blubber reads: it resolves each base image's config before compiling
/// (build/target.go, <c>Initialize</c>) and runs the inherited <c>ENTRYPOINT</c> for <c>run-variant</c> when a variant
/// sets none, and expands <c>$NAME</c> in builder <c>mounts</c>/<c>caches</c> against the image's environment. The
/// compiler stays pure: the builder inspects the image and passes this in (<see cref="CompileOptions.BaseImages"/>);
/// offline (<c>slipway blubber</c>) it is unknown and what needs it is refused, saying so.
/// </summary>
public sealed record BaseImageConfig
{
    /// <summary>The image's <c>ENTRYPOINT</c> (null or empty: none). Blubber's run-variant runs only this, never <c>CMD</c>.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>The image's <c>CMD</c>; only named in a refusal (Blubber does not run it).</summary>
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>The image's environment, <c>NAME=value</c> entries as in the image config.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>The image's platform (<c>linux</c>, <c>amd64</c>, <c>v7</c>), for Blubber's BUILD*/TARGET* variables; null when unknown.</summary>
    public string? Os { get; init; }
    public string? Architecture { get; init; }
    public string? Variant { get; init; }

    /// <summary>Most entries of <see cref="Entrypoint"/>, <see cref="Cmd"/> and <see cref="Env"/> each.</summary>
    public const int MaxEntries = 1000;

    /// <summary>Most characters of one entry.</summary>
    public const int MaxEntryChars = 64 * 1024;

    /// <summary>Most characters of all entries together.</summary>
    public const int MaxTotalChars = 1024 * 1024;

    /// <summary>The config Blubber starts a scratch variant with: no entry point, the default PATH.</summary>
    public static readonly BaseImageConfig Scratch = new() { Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] };

    /// <summary>
    /// Refuses a config over the bounds (an image is input like any other). Values are not checked for control
    /// characters here: each lands in the Dockerfile only through the rules of where it goes (JSON-escaped exec form,
    /// checked RUN --mount fields).
    /// </summary>
    public void Check(string image)
    {
        var total = 0;
        foreach (var (what, list) in new[] { ("ENTRYPOINT", Entrypoint ?? []), ("CMD", Cmd ?? []), ("ENV", Env) })
        {
            if (list.Count > MaxEntries)
                throw Refused(image, $"its {what} has more than {MaxEntries} entries");
            foreach (var entry in list)
            {
                if (entry is null) throw Refused(image, $"its {what} has a null entry");
                if (entry.Length > MaxEntryChars) throw Refused(image, $"an entry of its {what} is longer than {MaxEntryChars} characters");
                total += entry.Length;
            }
        }
        if (total > MaxTotalChars) throw Refused(image, $"its ENTRYPOINT, CMD and ENV are longer than {MaxTotalChars} characters together");
        foreach (var part in new[] { Os, Architecture, Variant })
            if (part is not null && !System.Text.RegularExpressions.Regex.IsMatch(part, "^[a-z0-9_.-]{0,64}$"))
                throw Refused(image, $"its platform \"{UnsafePathException.Printable(part)}\" is not a platform name");
    }

    /// <summary>The environment as Blubber's build state has it: the image's variables, then the BUILD*/TARGET* platform ones.</summary>
    internal Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Env)
        {
            var eq = entry.IndexOf('=');
            env[eq < 0 ? entry : entry[..eq]] = eq < 0 ? "" : entry[(eq + 1)..];
        }
        // build/target.go BuildEnv: the build and target platform; Slipway builds for the engine's own platform, which is the base image's.
        if (Os is { Length: > 0 } os && Architecture is { Length: > 0 } arch)
        {
            var variant = Variant ?? "";
            var platform = variant.Length > 0 ? $"{os}/{arch}/{variant}" : $"{os}/{arch}";
            foreach (var prefix in new[] { "BUILD", "TARGET" })
            {
                env[prefix + "PLATFORM"] = platform;
                env[prefix + "OS"] = os;
                env[prefix + "ARCH"] = arch;
                env[prefix + "VARIANT"] = variant;
            }
        }
        return env;
    }

    /// <summary>BuildKit's build and target platform variables, which Blubber sets on every build step.</summary>
    internal static bool IsPlatformName(string name) => PlatformNames.Contains(name);

    internal static readonly string[] PlatformNames =
        ["BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"];

    private static BlubberException Refused(string image, string why) =>
        new(BlubberErrorKind.Expansion, $"base image \"{UnsafePathException.Printable(image)}\": {why}");
}
