using System.Text.Json.Serialization;

namespace Slipway.Reporter.Checks;

// The shapes of Gerrit's JS Checks API (polygerrit-ui/app/api/checks.ts: FetchResponse, CheckRun,
// CheckResult, Link, Tag), as JSON the slipway-checks plugin hands to Gerrit unchanged.

/// <summary>What a <c>ChecksProvider.fetch</c> returns.</summary>
public sealed record ChecksFetchResponse(
    [property: JsonPropertyName("responseCode")] string ResponseCode,
    [property: JsonPropertyName("runs")] IReadOnlyList<CheckRun> Runs,
    [property: JsonPropertyName("summaryMessage")] string? SummaryMessage = null);

/// <summary>One attempt of one check (a pipeline step of one run).</summary>
public sealed record CheckRun
{
    [JsonPropertyName("change")] public int? Change { get; init; }
    [JsonPropertyName("patchset")] public int? Patchset { get; init; }
    /// <summary>Absent only for a step that never started (Gerrit: RUNNABLE runs may leave it undefined).</summary>
    [JsonPropertyName("attempt")] public int? Attempt { get; init; }
    [JsonPropertyName("externalId")] public required string ExternalId { get; init; }
    [JsonPropertyName("checkName")] public required string CheckName { get; init; }
    [JsonPropertyName("checkDescription")] public string? CheckDescription { get; init; }
    [JsonPropertyName("checkLink")] public string? CheckLink { get; init; }
    /// <summary>RUNNABLE, RUNNING, SCHEDULED or COMPLETED.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("statusDescription")] public string? StatusDescription { get; init; }
    [JsonPropertyName("statusLink")] public string? StatusLink { get; init; }
    [JsonPropertyName("labelName")] public string? LabelName { get; init; }
    [JsonPropertyName("scheduledTimestamp")] public DateTimeOffset? ScheduledTimestamp { get; init; }
    [JsonPropertyName("startedTimestamp")] public DateTimeOffset? StartedTimestamp { get; init; }
    [JsonPropertyName("finishedTimestamp")] public DateTimeOffset? FinishedTimestamp { get; init; }
    [JsonPropertyName("results")] public IReadOnlyList<CheckResult>? Results { get; init; }
}

/// <summary>An outcome of a check run: SUCCESS, INFO, WARNING or ERROR, with a short summary.</summary>
public sealed record CheckResult
{
    [JsonPropertyName("externalId")] public string? ExternalId { get; init; }
    [JsonPropertyName("category")] public required string Category { get; init; }
    [JsonPropertyName("summary")] public required string Summary { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("tags")] public IReadOnlyList<CheckTag>? Tags { get; init; }
    [JsonPropertyName("links")] public IReadOnlyList<CheckLink>? Links { get; init; }
}

public sealed record CheckTag(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("color")] string? Color = null);

/// <summary>A link shown as an icon (Gerrit's LinkIcon names: external, download, history, ...).</summary>
public sealed record CheckLink(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("tooltip")] string Tooltip,
    [property: JsonPropertyName("primary")] bool Primary,
    [property: JsonPropertyName("icon")] string Icon);
