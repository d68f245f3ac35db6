using Slipway.Contracts;

namespace Slipway.Tester.Smoke;

/// <summary>How a smoke test ended: every check, and the first failure in one line.</summary>
public sealed record SmokeResult
{
    public required bool Succeeded { get; init; }

    /// <summary>The checks in the order run: readiness, spec, each x-ample, liveness.</summary>
    public required IReadOnlyList<SmokeCheck> Checks { get; init; }

    public int ChecksPassed => Checks.Count(c => c.Passed);

    public int ChecksFailed => Checks.Count(c => !c.Passed);

    /// <summary>One line: "all 5 checks passed", or the first failure with its difference.</summary>
    public required string Reason { get; init; }

    /// <summary>The last lines of the service container's log.</summary>
    public string? OutputTail { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>Ends when every container and network the step made is removed (after the result is returned).</summary>
    public Task CleanedUp { get; init; } = Task.CompletedTask;
}
