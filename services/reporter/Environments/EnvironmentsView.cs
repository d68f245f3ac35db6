namespace Slipway.Reporter.Environments;

/// <summary>What runs where, its history, and what waits for an approval (<c>GET /api/environments</c>, the environments page).</summary>
public sealed record EnvironmentsView(IReadOnlyList<ServiceInEnvironment> Services, IReadOnlyList<WaitingApproval> Waiting);

/// <summary>One service in one environment: <c>Current</c> runs there now; <c>History</c> is newest first (current included).</summary>
public sealed record ServiceInEnvironment(string Environment, string Service, IReadOnlyList<DeploymentView> History)
{
    public DeploymentView Current => History[0];
}

/// <summary>
/// One configuration-registry change the deployer reported: <c>kind</c> deploy (a finished rollout), promote (recorded
/// in the values without a rollout) or rollback (an earlier image again; <c>by</c> asked for it, run and tags are the
/// image's own). <c>approvedBy</c> is the approver of the run's rollout there, null where no approval was needed.
/// </summary>
public sealed record DeploymentView(string Kind, string? RunId, string? Project, int? Change, ImageView? Image, string? ConfigRevision,
    string? ApprovedBy, string? By, string? Detail, DateTimeOffset At);

public sealed record ImageView(string? Uri, IReadOnlyList<string> Tags, string? Digest);

/// <summary>A deploy or promote step waiting for an approver; <c>lastRefusedBy</c> is a refusal seen meanwhile (e.g. a non-approver).</summary>
public sealed record WaitingApproval(string RunId, string Environment, string? Service, string? Stage, string? Step, ImageView? Image,
    DateTimeOffset RequestedAt, string? Project, int? Change, int? Patchset, string? LastRefusedBy, DateTimeOffset? LastRefusedAt);

/// <summary>
/// An approval of one run for one environment: <c>state</c> waiting, granted, refused or closed (the run ended without
/// one); <c>decidedBy</c>/<c>decidedVia</c> (gerrit or api) the last decision, a refusal of a non-approver included.
/// </summary>
public sealed record RunApproval(string Environment, string? Service, string State, string? DecidedBy, string? DecidedVia,
    DateTimeOffset? RequestedAt, DateTimeOffset? DecidedAt);
