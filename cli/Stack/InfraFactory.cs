using Slipway.Embedded;
using Slipway.Hosting.Lifetime;

namespace Slipway.Cli.Stack;

/// <summary>Creates <see cref="EmbeddedInfrastructure"/> that hosts Kafka by re-running this program with `kafka`.</summary>
internal static class InfraFactory
{
    /// <summary>Infrastructure that outlives this process until someone runs `infra down` (`infra up`, `up --keep-infra`).</summary>
    public static EmbeddedInfrastructure Create(string stateDir) => Create(stateDir, kafkaEnvironment: null);

    /// <summary>
    /// Infrastructure that does not outlive this process, also when it is killed with SIGKILL (`test`, `chaos`, `bench`,
    /// `up`, `infra run`): the Kafka host ends itself once this process is gone, and a detached <see cref="InfraReaper"/>
    /// downs the rest (Postgres, the registry, a dockerd the stack started) and first removes the containers labelled
    /// with <paramref name="deployedOwner"/>. One call for both halves, so that no caller ties one without the other.
    /// </summary>
    public static EmbeddedInfrastructure CreateTiedToThisProcess(string stateDir, string deployedOwner)
    {
        var infra = Create(stateDir, ParentProcess.ChildEnvironment());
        InfraReaper.Start(infra, deployedOwner);
        return infra;
    }

    private static EmbeddedInfrastructure Create(string stateDir, IReadOnlyDictionary<string, string>? kafkaEnvironment)
    {
        var (exe, prefix) = ThisProgram();
        return new EmbeddedInfrastructure(stateDir, exe, [.. prefix, "kafka"], kafkaEnvironment: kafkaEnvironment);
    }

    /// <summary>How to run this program again: the executable and the arguments before the command.</summary>
    public static (string Exe, string[] Prefix) ThisProgram()
    {
        var process = System.Environment.ProcessPath ?? "dotnet";
        var dll = typeof(InfraFactory).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? (process, [dll]) : (process, []);
    }
}
