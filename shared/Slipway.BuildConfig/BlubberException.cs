namespace Slipway.BuildConfig;

/// <summary>What went wrong, mapped to Blubber's CLI exit codes (blubber-v4 §9).</summary>
public enum BlubberErrorKind
{
    /// <summary>The file could not be read or is not YAML of the right shape (exit 2).</summary>
    Parse = 2,
    /// <summary>includes/copies expansion or compilation failed (exit 3).</summary>
    Expansion = 3,
    /// <summary>A value broke a validation rule (exit 4).</summary>
    Validation = 4,
    /// <summary>The policy file could not be loaded (exit 5).</summary>
    PolicyLoad = 5,
    /// <summary>The config violates the policy (exit 6).</summary>
    PolicyViolation = 6,
}

/// <summary>
/// A refused config. <see cref="Exception.Message"/> is the complete human message:
/// Blubber's own wording, then where (key path and YAML line) when known.
/// </summary>
public sealed class BlubberException : Exception
{
    public BlubberException(BlubberErrorKind kind, string detail, string? path = null, int line = 0)
        : base(Format(detail, path, line))
    {
        Kind = kind;
        Detail = detail;
        KeyPath = path;
        Line = line;
    }

    public BlubberErrorKind Kind { get; }
    /// <summary>The message without location.</summary>
    public string Detail { get; }
    public string? KeyPath { get; }
    public int Line { get; }
    public int ExitCode => (int)Kind;

    /// <summary>
    /// Set when compiling needs this base image's config (<see cref="BaseImageConfig"/>) and none was given: a caller
    /// that can read the image (the builder) checks its policy, reads it and compiles again; offline this is final.
    /// </summary>
    public string? NeedsBaseImage { get; init; }

    private static string Format(string detail, string? path, int line) =>
        (string.IsNullOrEmpty(path), line > 0) switch
        {
            (false, true) => $"{detail} (at {path}, line {line})",
            (false, false) => $"{detail} (at {path})",
            (true, true) => $"{detail} (line {line})",
            _ => detail,
        };
}
