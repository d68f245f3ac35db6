using System.CommandLine;
using Slipway.Cli.Commands;

// `slipway`: runs the embedded stack and, later, the pipeline's operator commands.
var root = new RootCommand("Slipway: Gerrit-to-production CI/CD pipeline")
{
    DemoCommand.Create(),
    UpCommand.Create(),
    TestCommand.Create(),
    BenchCommand.Create(),
    ChaosCommand.Create(),
    KafkaCommand.Create(),
    InfraCommand.Create(),
    BlubberCommand.Create(),
    PlanCommand.Create(),
    DeployerCommands.Approve(),
    DeployerCommands.Rollback(),
    RunCommands.Runs(),
    RunCommands.Run(),
    RunCommands.Logs(),
    GerritStandInCommand.Create(),
};
// Ctrl+C or SIGTERM cancels the command; its clean-up (infrastructure down, campaigns and test hosts killed) gets
// up to two minutes before the process exits, not System.CommandLine's default two seconds.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });
