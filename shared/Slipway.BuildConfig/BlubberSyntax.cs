using System.Text.RegularExpressions;

namespace Slipway.BuildConfig;

/// <summary>
/// The <c># syntax=…/blubber/buildkit:vX.Y.Z</c> parser directive at the top of a Blubber file: the frontend image
/// the team pinned, and its version. Slipway builds with its own compiler whatever the line says, but the pinned
/// version decides which keys are accepted with a warning (<see cref="BlubberVersions"/>) and is recorded on the image,
/// when PipelineLib would have built with it (<see cref="PipelineLibAllows"/>).
/// </summary>
public sealed partial record BlubberSyntax(string Image, Version? Version)
{
    [GeneratedRegex(@"^#\s*syntax\s*=\s*(\S+)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DirectiveRx();

    [GeneratedRegex(@"^v?(\d{1,4})\.(\d{1,4})\.(\d{1,4})(?:[-+][0-9A-Za-z.\-]*)?$")]
    private static partial Regex TagRx();

    /// <summary>
    /// Whether PipelineLib builds with this frontend (<c>PipelineRunner.buildkitAllowedFrontends</c>, any version); any
    /// other is replaced by its default, <see cref="BlubberVersions.PipelineLibDefault"/>.
    /// </summary>
    public bool PipelineLibAllows => BlubberVersions.PipelineLibFrontends.Contains(NameOf(Image));

    /// <summary>The image's name without its tag or digest (PipelineLib's <c>parseImageRef(…).name</c>).</summary>
    private static string NameOf(string image)
    {
        var name = image.Split('@')[0];
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }

    /// <summary>The version as written in Blubber's tags, e.g. <c>v0.22.0</c>; null when the tag is not a version.</summary>
    public string? VersionText => Version is null ? null : $"v{Version.ToString(3)}";

    /// <summary>
    /// Reads the directive from the leading comment lines (only <c>#</c> lines at the very top count; of several, the
    /// last, as PipelineLib's <c>PipelineRunner</c> reads them). Returns null when there is none or it names no Blubber frontend.
    /// </summary>
    public static BlubberSyntax? Read(string yaml)
    {
        string? image = null;
        foreach (var raw in yaml.TrimStart('\uFEFF').Split('\n').Take(20))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (!line.StartsWith('#')) break;
            if (DirectiveRx().Match(line) is { Success: true } m) image = m.Groups[1].Value;
        }
        if (image is null || image.Length > 512 || !image.Contains("blubber", StringComparison.OrdinalIgnoreCase)) return null;
        var name = image.Split('@')[0];
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        var tag = colon > slash ? name[(colon + 1)..] : "";
        var t = TagRx().Match(tag);
        var version = t.Success ? new Version(int.Parse(t.Groups[1].Value), int.Parse(t.Groups[2].Value), int.Parse(t.Groups[3].Value)) : null;
        return new BlubberSyntax(image, version);
    }
}

/// <summary>When Blubber added and removed keys (from its git tags), for files that pin an older frontend.</summary>
public static class BlubberVersions
{
    /// <summary><c>python.use-system-flag</c> (pip's Debian <c>--system</c> flag) was removed in v0.23.0, when every install moved into a virtualenv.</summary>
    public static readonly Version UseSystemFlagRemoved = new(0, 23, 0);

    /// <summary>
    /// The entries of a <c>builders</c> list were validated from v1.3.0 on (Blubber commit 1386dd8, "Fix lack of validation
    /// on custom builders"); before, e.g. a requirement without <c>from</c> was a copy from the build context.
    /// </summary>
    public static readonly Version BuildersListValidated = new(1, 3, 0);

    /// <summary>
    /// The frontend PipelineLib builds a file with when it has no <c># syntax=</c> line naming a Blubber frontend
    /// (PipelineRunner.buildkitFrontend, <c>…/wikimedia/blubber-buildkit:v0.11.1</c>): the version such a file was
    /// validated by.
    /// </summary>
    public static readonly Version PipelineLibDefault = new(0, 11, 1);

    /// <summary>The frontend images PipelineLib lets a <c># syntax=</c> line choose (any tag); it builds any other with its default.</summary>
    public static readonly IReadOnlySet<string> PipelineLibFrontends = new HashSet<string>(StringComparer.Ordinal)
    {
        "docker-registry.wikimedia.org/wikimedia/blubber-buildkit",
        "docker-registry.wikimedia.org/repos/releng/blubber/buildkit",
    };

    /// <summary>Keys by the first version that accepted them (only those added since v0.21.0, the oldest frontend worth pinning).</summary>
    public static readonly IReadOnlyDictionary<string, Version> Introduced = new Dictionary<string, Version>
    {
        ["python.tox-version"] = new(0, 21, 0),
        ["python.use-system-site-packages"] = new(0, 23, 0),
        ["builder.mounts"] = new(1, 2, 0),
        ["builder.caches"] = new(1, 2, 0),
        ["artifact.exclude"] = new(1, 2, 0),
        ["apt.sources.signed-by"] = new(1, 2, 0),
        ["builder.script"] = new(1, 3, 0),
        ["arguments"] = new(1, 5, 0),
        ["python.poetry.only"] = new(1, 6, 0),
        ["python.poetry.without"] = new(1, 6, 0),
        ["python.venv"] = new(1, 7, 0),
        ["python.pip-version"] = new(1, 8, 0),
        ["python.setuptools-version"] = new(1, 8, 0),
        ["python.wheel-version"] = new(1, 8, 0),
    };
}
