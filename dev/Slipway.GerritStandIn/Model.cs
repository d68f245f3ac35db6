using System.Text.Json.Nodes;

namespace Slipway.GerritStandIn;

/// <summary>
/// A Gerrit account as the stand-in knows it (REST `_account_id`, stream-event name/email/username). A
/// <paramref name="ServiceUser"/> is a bot (Gerrit's Service Users group): detailed AccountInfo tags it `SERVICE_USER`.
/// </summary>
public sealed record GerritAccount(int Id, string Name, string Email, string Username, bool ServiceUser = false)
{
    /// <summary>The stream-event AccountAttribute: name, email, username (none for a commit author without an account).</summary>
    public JsonObject ToEventJson() => Username.Length == 0
        ? new() { ["name"] = Name, ["email"] = Email }
        : new() { ["name"] = Name, ["email"] = Email, ["username"] = Username };
}

/// <summary>What <see cref="GerritStandIn.UploadPatchsetAsync"/> created.</summary>
public sealed record UploadResult(
    string Project, string Branch, int ChangeNumber, string ChangeId, int PatchSet,
    string Revision, string Parent, string Ref, string EventJson);

/// <summary>What <see cref="GerritStandIn.Change"/> shows of a change: enough for a reviewer to find and read it.</summary>
public sealed record ChangeView(
    int Number, string Project, string Branch, string ChangeId, string Subject, string Status, string? Topic, int PatchSet, string Revision);

/// <summary>A review accepted by `POST /a/changes/{id}/revisions/{rev}/review`, as the stand-in recorded it.</summary>
public sealed record PostedReview(
    int ChangeNumber, int PatchSet, string Revision, string? Message,
    IReadOnlyDictionary<string, int> Labels, string? Tag, string? Notify,
    GerritAccount Account, DateTimeOffset At, string RequestBody);

/// <summary>One emitted stream event: its type, its exact JSON line (no newline) and when it was emitted.</summary>
public sealed record StandInEvent(long Sequence, string Type, string Json, long EventCreatedOn, string? Project);

/// <summary>A Gerrit label definition (name, allowed values, post-submit voting).</summary>
public sealed record LabelDefinition(string Name, int Min, int Max, bool AllowPostSubmit = true);

internal sealed class PatchSetState
{
    public required int Number { get; init; }
    public required string Revision { get; init; }
    public required string[] Parents { get; init; }
    public required string Ref { get; init; }
    public required GerritAccount Uploader { get; init; }
    public required GerritAccount Author { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required string Kind { get; init; }
    public required int Insertions { get; init; }
    public required int Deletions { get; init; }
    public required string CommitMessage { get; init; }
    public required string Tree { get; init; }
}

internal sealed class ChangeMessageState
{
    public required string Id { get; init; }
    public required GerritAccount Author { get; init; }
    public required DateTimeOffset Date { get; set; }
    public required string Message { get; init; }
    public required int PatchSet { get; init; }
    public string? Tag { get; init; }
}

internal sealed class ChangeState
{
    public required int Number { get; init; }
    public required string Project { get; init; }
    public required string Branch { get; init; }
    public required string ChangeId { get; init; }
    public required GerritAccount Owner { get; init; }
    public required DateTimeOffset Created { get; init; }
    public string Subject { get; set; } = "";
    public DateTimeOffset Updated { get; set; }
    public DateTimeOffset? Submitted { get; set; }
    /// <summary>Who merged it (ChangeInfo's <c>submitter</c>); null while it is open.</summary>
    public GerritAccount? Submitter { get; set; }
    public string Status { get; set; } = "NEW";
    public string? Topic { get; set; }
    public List<PatchSetState> PatchSets { get; } = [];
    public List<ChangeMessageState> Messages { get; } = [];
    /// <summary>Account ids added as reviewers (push option <c>r=</c>), in the order added, each once.</summary>
    public List<int> Reviewers { get; } = [];
    /// <summary>label → account id → value (current votes).</summary>
    public Dictionary<string, Dictionary<int, int>> Votes { get; } = new(StringComparer.Ordinal);
    public PatchSetState Current => PatchSets[^1];
    public bool IsOpen => Status == "NEW";
    public string RefName => "refs/heads/" + Branch;
}
