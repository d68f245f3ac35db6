namespace Slipway.GerritStandIn.Samples;

/// <summary>
/// The charts project a promote step proposes new image versions in (operations/deployment-charts' layout:
/// <c>helmfile.d/services/&lt;chart&gt;/values.yaml</c>), hosted by the stand-in with history, as the deployer finds it.
/// </summary>
public static class SampleCharts
{
    public const string Project = "operations/deployment-charts";

    /// <summary>The values file a promote to every environment edits (the deployer's default <c>Deployer:Promote:ValuesPath</c>).</summary>
    public static string ValuesPath(string chart) => $"helmfile.d/services/{chart}/values.yaml";

    /// <summary>A chart's values before any promote: the pinned version is the line promote replaces, the rest stays.</summary>
    public static string InitialValues(string chart) => $"""
        # {chart}: the pipeline bot's promote changes only main_app.version.
        main_app:
          image: {chart}
          version: 2026-01-01-000000-production
          port: 8080
        resources:
          replicas: 3

        """;

    /// <summary>Creates <see cref="Project"/> and merges <paramref name="files"/> as its first change; returns that change and the branch tip.</summary>
    public static async Task<(int Change, string Tip)> CreateAsync(GerritStandIn gerrit, IReadOnlyDictionary<string, string?> files, string subject,
        CancellationToken ct = default)
    {
        await gerrit.CreateProjectAsync(Project, ct: ct);
        var seed = await gerrit.UploadPatchsetAsync(Project, "master", files, subject, ct: ct);
        return (seed.ChangeNumber, await gerrit.MergeAsync(seed.ChangeNumber, ct: ct));
    }
}
