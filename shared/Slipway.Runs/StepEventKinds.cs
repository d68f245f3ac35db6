using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>Reads a step event's type name: <c>slipway.smoke-test.failed.v1</c> is (Smoke, Failed).</summary>
public static class StepEventKinds
{
    public enum Phase { Started, Succeeded, Failed }

    public static (StepKind Kind, Phase Phase)? Parse(string type)
    {
        var parts = type.Split('.');
        if (parts.Length != 4 || parts[0] != "slipway") return null;
        StepKind? kind = parts[1] switch
        {
            "build" => StepKind.Build, "test" => StepKind.Test, "smoke-test" => StepKind.Smoke,
            "publish" => StepKind.Publish, "deploy" => StepKind.Deploy, "promote" => StepKind.Promote, _ => null,
        };
        Phase? phase = parts[2] switch { "started" => Phase.Started, "succeeded" => Phase.Succeeded, "failed" => Phase.Failed, _ => null };
        return kind is { } k && phase is { } p ? (k, p) : null;
    }
}
