using Slipway.Embedded;

namespace Slipway.Cli.Stack;

/// <summary>
/// The containers this stack's deployer and tester started (label <c>slipway.owner</c>, <see cref="PipelineSettings.OwnerOf"/>);
/// the stack removes them when it stops. Only its own: another stack or test run on the same engine keeps its containers.
/// </summary>
internal static class DeployedContainers
{
    public static async Task RemoveAsync(string owner, CancellationToken ct)
    {
        try
        {
            var swept = await DeployedContainerSweep.RemoveAsync(owner, ct);
            if (swept.Found.Count == 0) return;
            var ok = swept.Remaining.Count == 0;
            ServiceStack.Print("slipway", ok ? ConsoleColor.White : ConsoleColor.Yellow, ok
                ? $"removed {swept.Found.Count} container(s) of its deployers and testers"
                : $"could not remove deployed containers: {string.Join(", ", swept.Remaining)}");
        }
        catch (InvalidOperationException e)
        {
            ServiceStack.Print("slipway", ConsoleColor.Yellow, $"could not remove deployed containers: {e.Message}");
        }
    }
}
