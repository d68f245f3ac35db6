using Slipway.Embedded;

namespace Slipway.Cli.Stack;

/// <summary>Creates <see cref="EmbeddedInfrastructure"/> that hosts Kafka by re-running this program with `kafka`.</summary>
internal static class InfraFactory
{
    public static EmbeddedInfrastructure Create(string stateDir)
    {
        var process = System.Environment.ProcessPath ?? "dotnet";
        var dll = typeof(InfraFactory).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? new EmbeddedInfrastructure(stateDir, process, [dll, "kafka"])
            : new EmbeddedInfrastructure(stateDir, process, ["kafka"]);
    }
}
