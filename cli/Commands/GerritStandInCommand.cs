using System.CommandLine;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway gerrit-stand-in` (hidden): runs the Gerrit stand-in alone until Ctrl+C, printing its URLs and sshd's pid, for
/// trying a gateway against it by hand and for the test that kills its host process outright.
/// </summary>
internal static class GerritStandInCommand
{
    public static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "directory to create the stand-in's work directory in", DefaultValueFactory = _ => Path.GetTempPath() };
        var command = new Command("gerrit-stand-in", "run the Gerrit stand-in alone until Ctrl+C") { dir };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            await using var gerrit = await StandIn.StartAsync(parse.GetValue(dir)!, ct: ct);
            Console.Out.WriteLine($"gerrit stand-in: {gerrit.HttpUrl} (REST, git), {gerrit.SshUrl} (stream-events), sshd pid {gerrit.SshdPid}");
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }
}
