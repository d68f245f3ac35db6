namespace Slipway.Tester.Testing;

/// <summary>How a test run ended. The exit code decides: 0 succeeds, anything else (or no exit) fails.</summary>
public sealed record TestRunResult
{
    public required bool Succeeded { get; init; }

    /// <summary>The entry point's exit code; null when it never exited by itself (killed at the time limit, never started).</summary>
    public int? ExitCode { get; init; }

    /// <summary>True when the time limit killed it.</summary>
    public bool TimedOut { get; init; }

    /// <summary>The last lines of stdout and stderr (interleaved), bounded for events; null when there was none.</summary>
    public string? OutputTail { get; init; }

    /// <summary>One line saying why, e.g. "tests exited with code 3".</summary>
    public required string Reason { get; init; }

    public TimeSpan Duration { get; init; }
}
