using Slipway.Embedded;

namespace Slipway.Cli.Stack;

/// <summary>The containers the deployer's docker backend started (label slipway.environment); the stack removes them when it stops.</summary>
internal static class DeployedContainers
{
    public static async Task RemoveAsync(CancellationToken ct)
    {
        var ids = await ProcessRunner.RunAsync("docker", ["ps", "-aq", "--filter", "label=slipway.environment"], ct: ct);
        var list = ids.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0) return;
        var removed = await ProcessRunner.RunAsync("docker", ["rm", "-f", .. list], ct: ct);
        ServiceStack.Print("slipway", removed.Succeeded ? ConsoleColor.White : ConsoleColor.Yellow,
            removed.Succeeded ? $"removed {list.Length} deployed container(s)" : $"could not remove deployed containers: {removed.Tail(3)}");
    }
}
