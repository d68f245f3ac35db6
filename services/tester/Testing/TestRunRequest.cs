using Slipway.Contracts;

namespace Slipway.Tester.Testing;

/// <summary>What to run: a test image's entry point, isolated.</summary>
public sealed record TestRunRequest
{
    /// <summary>The image: an id (<c>sha256:...</c>) or a reference already present on the engine.</summary>
    public required string Image { get; init; }

    /// <summary>Arguments appended to the image's entry point (the container's CMD); null keeps the image's own CMD.</summary>
    public IReadOnlyList<string>? Arguments { get; init; }

    /// <summary>Environment variables for the run.</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Values set in <see cref="Env"/> from credentials: masked in every output and reason the run returns.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Time limit; null means <see cref="TesterOptions.DefaultTimeLimitSeconds"/>.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Lines of output kept in <see cref="TestRunResult.OutputTail"/>.</summary>
    public int TailLines { get; init; } = Output.DefaultTailLines;

    /// <summary>Labels put on the container (e.g. <c>slipway.run</c>), so operators can find and clean it up.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>
    /// Runs once the entry point exited 0, while the stopped container still exists (given its id, and the output's tail
    /// as the step's result will carry it, for a copy path naming the stage's own <c>output</c>): PipelineLib's
    /// <c>copy</c>. A returned reason fails the step with it.
    /// </summary>
    public Func<string, string?, CancellationToken, Task<string?>>? AfterSuccess { get; init; }

    /// <summary>
    /// Called once the container runs: from here until it exits the engine has little to do, which the tester uses to
    /// make the run's smoke network ahead (<see cref="Smoke.SmokeWarmPairs"/>). Must return at once.
    /// </summary>
    public Action? Started { get; init; }

    /// <summary>Policy: allow an image whose runtime user is root. Default false (refused).</summary>
    public bool AllowRootUser { get; init; }
}
