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
};
return await root.Parse(args).InvokeAsync();
