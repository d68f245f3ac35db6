namespace Slipway.Contracts;

/// <summary>
/// The reporter's public pages of a run, as plans and messages link to them: <c>&lt;base&gt;/runs/&lt;run&gt;</c>, the run's
/// status page (Slipway's equivalent of a Jenkins build's console log). The run id is percent-encoded, so no id can
/// break the URL.
/// </summary>
public static class RunLinks
{
    /// <param name="baseUrl">The reporter's public URL (the operator's <c>Pipeline:ArtifactBaseUrl</c>).</param>
    public static string StatusPage(string baseUrl, string runId) => $"{baseUrl.TrimEnd('/')}/runs/{Uri.EscapeDataString(runId)}";
}
