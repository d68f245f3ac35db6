using System.Net;
using System.Text;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// The dashboard's page frame: plain server-rendered HTML that reads well at a phone's width and without
/// JavaScript; a page may add a small script for live updates. Everything from a run is HTML-encoded here.
/// </summary>
public static class Page
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>
    /// A name the run's content chose (an artifact's file name), HTML-encoded and on one line: line breaks, other control
    /// characters, line separators, bidi overrides (which make <c>exe.txt</c> read as <c>txt.exe</c>) and other format characters
    /// (<see cref="Slipway.Contracts.HostileCharacters"/>) show as U+FFFD.
    /// </summary>
    public static string Name(string? text) => E(Slipway.Contracts.HostileCharacters.Replaced(text));

    /// <summary>A query-string value, encoded.</summary>
    public static string Q(string? text) => Uri.EscapeDataString(text ?? "");

    /// <summary>The page; <paramref name="script"/> is a script tag from <see cref="LiveScript"/> (or another of <see cref="StaticAssets"/>).</summary>
    public static string Render(string title, string body, string? script = null)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Slipway</title><link rel=\"stylesheet\" href=\"").Append(StaticAssets.CssPath).Append("\"></head><body>")
            .Append("<nav><a href=\"/\"><b>Slipway</b></a> <a href=\"/\">Runs</a> <a href=\"/environments\">Environments</a> <a href=\"/trends\">Trends</a></nav><main>")
            .Append(body).Append("</main>");
        if (script is not null) html.Append(script);
        return html.Append("</body></html>").ToString();
    }

    public static string Badge(string state) => $"<span class=\"badge {E(state)}\">{E(state)}</span>";

    public static string Progress(int started, int total) =>
        $"<progress value=\"{started}\" max=\"{Math.Max(total, 1)}\"></progress> <span class=\"muted\">step {started} of {total}</span>";

    public static string Duration(long? ms) => ms is { } v ? Comments.ReviewComposer.Duration(v) : "";

    public static string Time(DateTimeOffset? t) => t is { } v ? $"<time datetime=\"{v:O}\">{v:yyyy-MM-dd HH:mm:ss}Z</time>" : "";

    /// <summary>
    /// The tag of the script that reloads the element <paramref name="id"/> from the same URL whenever the stream
    /// reports a change; no inline script, the values travel HTML-encoded in data attributes.
    /// </summary>
    public static string LiveScript(string id, string? runId = null) =>
        $"<script src=\"{StaticAssets.LivePath}\" data-fragment=\"{E(id)}\"{(runId is null ? "" : $" data-run=\"{E(runId)}\"")}></script>";
}
