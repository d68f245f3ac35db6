using System.Text.Json.Serialization;

namespace Slipway.Gerrit.Rest;

/// <summary>Set Review input (gerrit.md §3.3); snake_case as Gerrit expects.</summary>
public sealed record ReviewInput
{
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("tag")] public string? Tag { get; init; }
    [JsonPropertyName("labels")] public IReadOnlyDictionary<string, int>? Labels { get; init; }
    [JsonPropertyName("notify")] public string? Notify { get; init; }
    [JsonPropertyName("omit_duplicate_comments")] public bool? OmitDuplicateComments { get; init; }
}

/// <summary>The ChangeInfo fields Slipway reads.</summary>
public sealed record ChangeInfo
{
    [JsonPropertyName("project")] public string Project { get; init; } = "";
    [JsonPropertyName("branch")] public string Branch { get; init; } = "";
    [JsonPropertyName("change_id")] public string? ChangeId { get; init; }
    [JsonPropertyName("_number")] public int Number { get; init; }
    [JsonPropertyName("subject")] public string? Subject { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("updated")] public string? Updated { get; init; }
    [JsonPropertyName("work_in_progress")] public bool WorkInProgress { get; init; }
    [JsonPropertyName("is_private")] public bool IsPrivate { get; init; }
    [JsonPropertyName("current_revision")] public string? CurrentRevision { get; init; }
    [JsonPropertyName("messages")] public IReadOnlyList<ChangeMessageInfo>? Messages { get; init; }
    [JsonPropertyName("_more_changes")] public bool MoreChanges { get; init; }
    [JsonPropertyName("created")] public string? Created { get; init; }
    [JsonPropertyName("submitted")] public string? Submitted { get; init; }
    [JsonPropertyName("owner")] public AccountInfo? Owner { get; init; }
    /// <summary>Who submitted the change; set for merged changes.</summary>
    [JsonPropertyName("submitter")] public AccountInfo? Submitter { get; init; }
    /// <summary>With <c>o=LABELS</c> (or the detail view): label name → who gave its highest vote.</summary>
    [JsonPropertyName("labels")] public IReadOnlyDictionary<string, LabelInfo>? Labels { get; init; }
    /// <summary>With <c>o=CURRENT_REVISION</c> or <c>o=ALL_REVISIONS</c>: revision SHA → patch set.</summary>
    [JsonPropertyName("revisions")] public IReadOnlyDictionary<string, RevisionInfo>? Revisions { get; init; }
}

/// <summary>The RevisionInfo fields the gateway's REST catch-up reads.</summary>
public sealed record RevisionInfo
{
    [JsonPropertyName("_number")] public int Number { get; init; }
    [JsonPropertyName("kind")] public string? Kind { get; init; }
    [JsonPropertyName("ref")] public string? Ref { get; init; }
    [JsonPropertyName("created")] public string? Created { get; init; }
    [JsonPropertyName("uploader")] public AccountInfo? Uploader { get; init; }
}

public sealed record ChangeMessageInfo
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("tag")] public string? Tag { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("date")] public string? Date { get; init; }
    [JsonPropertyName("_revision_number")] public int? RevisionNumber { get; init; }
    [JsonPropertyName("author")] public AccountInfo? Author { get; init; }
}

public sealed record AccountInfo
{
    [JsonPropertyName("_account_id")] public long AccountId { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("email")] public string? Email { get; init; }
    [JsonPropertyName("username")] public string? Username { get; init; }
    /// <summary>With detailed accounts: Gerrit's account tags, e.g. <c>SERVICE_USER</c> for a bot.</summary>
    [JsonPropertyName("tags")] public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>The LabelInfo field Slipway reads: the account whose vote is the label's highest (Code-Review +2).</summary>
public sealed record LabelInfo
{
    [JsonPropertyName("approved")] public AccountInfo? Approved { get; init; }
}

/// <summary>BranchInfo (<c>GET /projects/{project}/branches/{branch}</c>): the branch's full ref and its tip.</summary>
public sealed record BranchInfo
{
    [JsonPropertyName("ref")] public string Ref { get; init; } = "";
    [JsonPropertyName("revision")] public string Revision { get; init; } = "";
}

/// <summary>
/// TagInfo (<c>GET /projects/{project}/tags/</c>): the tag's full ref and what it holds, which <c>ref-updated</c> names
/// too (an annotated tag's own object; <see cref="TaggedObject"/> is the commit it tags).
/// </summary>
public sealed record TagInfo
{
    [JsonPropertyName("ref")] public string Ref { get; init; } = "";
    [JsonPropertyName("revision")] public string Revision { get; init; } = "";
    [JsonPropertyName("object")] public string? TaggedObject { get; init; }
}

/// <summary>CommitInfo (<c>GET /projects/{project}/commits/{commit}</c>): the fields the catch-up reads.</summary>
public sealed record CommitInfo
{
    [JsonPropertyName("commit")] public string? Commit { get; init; }
    [JsonPropertyName("parents")] public IReadOnlyList<CommitInfo>? Parents { get; init; }
    [JsonPropertyName("subject")] public string? Subject { get; init; }
}
