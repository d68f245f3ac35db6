using Slipway.Embedded;
using Slipway.Hosting.Lifetime;

namespace Slipway.Cli.Stack;

/// <summary>Creates <see cref="EmbeddedInfrastructure"/> that hosts Kafka by re-running this program with `kafka`.</summary>
internal static class InfraFactory
{
    /// <param name="tiedToThisProcess">
    /// The infrastructure must not outlive this process (`test`, `up`): the Kafka host ends itself when this process is
    /// gone; pair with <see cref="InfraReaper.Start"/> for the rest (Postgres, registry, a dockerd it started).
    /// </param>
    public static EmbeddedInfrastructure Create(string stateDir, bool tiedToThisProcess = false)
    {
        var (exe, prefix) = ThisProgram();
        return new EmbeddedInfrastructure(stateDir, exe, [.. prefix, "kafka"],
            kafkaEnvironment: tiedToThisProcess ? ParentProcess.ChildEnvironment() : null);
    }

    /// <summary>How to run this program again: the executable and the arguments before the command.</summary>
    public static (string Exe, string[] Prefix) ThisProgram()
    {
        var process = System.Environment.ProcessPath ?? "dotnet";
        var dll = typeof(InfraFactory).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? (process, [dll]) : (process, []);
    }
}
