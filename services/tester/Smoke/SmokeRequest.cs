namespace Slipway.Tester.Smoke;

/// <summary>What to smoke-test: a production image started detached and checked from outside.</summary>
public sealed record SmokeRequest
{
    /// <summary>The image: an id (<c>sha256:...</c>) or a reference already present on the engine.</summary>
    public required string Image { get; init; }

    /// <summary>The port a service listens on when its step names none (Blubber's and service-runner's default).</summary>
    public const int DefaultContainerPort = 8080;

    /// <summary>The port the service listens on inside the container.</summary>
    public int ContainerPort { get; init; } = DefaultContainerPort;

    /// <summary>Polled until it answers 2xx.</summary>
    public string ReadinessPath { get; init; } = "/_info";

    /// <summary>Where the OpenAPI spec with x-amples is served.</summary>
    public string SpecPath { get; init; } = "/?spec";

    /// <summary>Probed after the x-amples (must answer 2xx); null means <see cref="ReadinessPath"/>.</summary>
    public string? LivenessPath { get; init; }

    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>How long the service may take to become ready.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Labels put on every container and network created (e.g. <c>slipway.run</c>).</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Policy: allow an image whose runtime user is root. Default false (refused).</summary>
    public bool AllowRootUser { get; init; }

    /// <summary>Lines of the container log kept in <see cref="SmokeResult.OutputTail"/>.</summary>
    public int TailLines { get; init; } = Slipway.Contracts.Output.DefaultTailLines;
}
