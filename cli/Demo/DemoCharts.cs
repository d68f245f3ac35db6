using Slipway.GerritStandIn.Samples;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Cli.Demo;

/// <summary>
/// The demo's charts project in the Gerrit stand-in (the sample service's chart with a pinned version), and the deployer's
/// <c>Deployer:Promote</c> settings that point promote at it, so a promote opens its change there as PipelineLib's did in
/// operations/deployment-charts. Set up before the services start: the deployer reads its options once.
/// </summary>
internal static class DemoCharts
{
    /// <summary>The environments of the demo's charts repository: a promote to all of them edits values.yaml.</summary>
    public static readonly string[] Environments = ["staging", "production"];

    public static async Task<IReadOnlyDictionary<string, string>> PrepareAsync(StandIn gerrit, CancellationToken ct)
    {
        await SampleCharts.CreateAsync(gerrit, new Dictionary<string, string?>
        {
            [SampleCharts.ValuesPath(SampleProject.Chart)] = SampleCharts.InitialValues(SampleProject.Chart),
        }, $"Add the {SampleProject.Chart} chart", ct);
        var settings = new Dictionary<string, string>
        {
            ["Deployer__Promote__Enabled"] = "true",
            ["Deployer__Promote__GerritProject"] = SampleCharts.Project,
            // The deployer holds no Gerrit credentials of its own (PipelineSettings.ForService): these are the charts account's.
            ["Deployer__Promote__Url"] = gerrit.HttpUrl,
            ["Deployer__Promote__HttpUser"] = gerrit.HttpUser,
            ["Deployer__Promote__HttpPassword"] = gerrit.HttpPassword,
        };
        for (var i = 0; i < Environments.Length; i++) settings[$"Deployer__Promote__Environments__{i}"] = Environments[i];
        return settings;
    }
}
