namespace Slipway.BuildConfig;

// `python`: pip and poetry (Blubber's config/python.go, poetry.go).
public static partial class ConfigParser
{
    /// <summary>
    /// The Blubber version that validated this file in PipelineLib: the pinned one, or PipelineLib's default frontend
    /// when there is no <c># syntax=</c> line (a pin without a version tag, e.g. <c>:latest</c>, is current Blubber).
    /// </summary>
    private static Version? ValidatedBy => _state is null ? null : _state.Syntax is { } pin ? pin.Version : BlubberVersions.PipelineLibDefault;

    /// <summary>Whether that version still accepted <c>python.use-system-flag</c>.</summary>
    private static bool PinAcceptsUseSystemFlag => ValidatedBy is { } v && v < BlubberVersions.UseSystemFlagRemoved;

    private static PythonBuilder ParsePython(YNode v)
    {
        var b = new PythonBuilder(null, null, null, null, null, null, null, null, null, null, v.Line);
        string[] keys = ["version", "requirements", "use-system-site-packages", "no-deps", "poetry", "venv",
            "pip-version", "setuptools-version", "tox-version", "wheel-version"];
        foreach (var (k, n) in v.Fields(PinAcceptsUseSystemFlag ? [.. keys, "use-system-flag"] : keys))
        {
            if (n.IsNull) continue;
            if (k is not ("version" or "requirements" or "no-deps" or "poetry" or "use-system-flag")) Since(n, "python." + k);
            if (k == "use-system-flag")
            {
                n.OptBool();
                _state!.Warnings.Add($"{n.Path} (line {n.Line}): \"use-system-flag\" was removed in Blubber v0.23.0 and is accepted because {ValidatedByReason}; "
                    + "it has no effect: the Python builder installs into a virtualenv (as Blubber does since v0.23.0), where pip's Debian-only --system flag does not apply");
                continue;
            }
            b = k switch
            {
                "version" => b with { Version = PythonBinary(n) },
                "requirements" => b with { Requirements = ParseRequirements(n) },
                "use-system-site-packages" => b with { UseSystemSitePackages = n.OptBool() },
                "no-deps" => b with { NoDeps = n.OptBool() },
                "poetry" => b with { Poetry = ParsePoetry(n) },
                "venv" => b with { Venv = n.Str() },
                "pip-version" => b with { PipVersion = PyVersion(n) },
                "setuptools-version" => b with { SetuptoolsVersion = PyVersion(n) },
                "tox-version" => b with { ToxVersion = PyVersion(n) },
                _ => b with { WheelVersion = PyVersion(n) },
            };
        }
        return b;
    }

    private static string PythonBinary(YNode n)
    {
        var s = n.Str();
        // The binary name lands in shell commands unquoted, as in Blubber: allow only a command name or path.
        if (s.Length > 0 && !System.Text.RegularExpressions.Regex.IsMatch(s, @"^[A-Za-z0-9_./\-]+$"))
            throw Stricter(n, $"{n.Key}: \"{s}\" is not a valid Python binary name (letters, digits, _ . / -)",
                "the binary name starts shell commands unquoted, as in Blubber, in steps that have network access");
        return s;
    }

    // Blubber checks only poetry.version (pypkgver); the other pins are Slipway's stricter rule.
    private static string PyVersion(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsPythonVersionSpec(s))
            throw Stricter(n, $"{n.Key}: \"{s}\" is not a valid Python package version specification", ShellWhy);
        return s;
    }

    private static string PoetryVersion(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsPythonConstraint(s)) throw n.Invalid($"\"{s}\" is not a valid Python package version specification");
        return s;
    }

    private static PoetryConfig ParsePoetry(YNode v)
    {
        var p = new PoetryConfig(null, null, null, null);
        foreach (var (k, n) in v.Fields("version", "devel", "only", "without"))
        {
            if (n.IsNull) continue;
            p = k switch
            {
                "version" => p with { Version = PoetryVersion(n) },
                "devel" => p with { Devel = n.OptBool() },
                "only" => Since(n, "python.poetry.only", p with { Only = GroupList(n) }),
                _ => Since(n, "python.poetry.without", p with { Without = GroupList(n) }),
            };
        }
        return p;
    }

    // A string in Blubber (passed to poetry as one argument, e.g. "main,dev"); a list is a decode error there too.
    private static List<string> GroupList(YNode n) => [NoShellExpansion(n, n.Str())];
}
