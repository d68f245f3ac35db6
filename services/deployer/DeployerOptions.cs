using System.Text.RegularExpressions;
using Slipway.Hosting;

namespace Slipway.Deployer;

/// <summary><c>Deployer</c>: the backend, per-environment sizing, and who may approve production.</summary>
public sealed class DeployerOptions : IValidatableOptions
{
    public const string Section = "Deployer";

    /// <summary><c>docker</c> (the embedded default) or <c>kubernetes</c>.</summary>
    public string Backend { get; set; } = "docker";

    /// <summary>Per environment: instances and how long each rollout stage may take to become healthy.</summary>
    public Dictionary<string, EnvironmentOptions> Environments { get; set; } = new()
    {
        ["staging"] = new() { Replicas = 1 },
        ["production"] = new() { Replicas = 4 },
    };

    /// <summary>
    /// Who may approve a rollout that needs approval, for every environment without its own list: Gerrit usernames
    /// (also the CLI users of <see cref="ApiTokens"/>) or numeric Gerrit account ids. Never matched by display name or email.
    /// </summary>
    public List<string> Approvers { get; set; } = [];

    /// <summary>A Gerrit comment line matching this approves the rollout of the named environment (group <c>env</c>).</summary>
    public string ApprovalPattern { get; set; } = @"^\s*approve\s+(?<env>[a-z0-9][a-z0-9-]*)\s*$";

    /// <summary>
    /// API tokens of the deployer's HTTP API (used by <c>slipway approve</c> and <c>slipway rollback</c>): token → user name.
    /// Give each person their own token: a rollback of an environment that needs approval is allowed only when the token's
    /// user is an approver, so an operators' shared token (mapped to a non-approver name) cannot change production.
    /// </summary>
    public Dictionary<string, string> ApiTokens { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How long <c>POST /api/services/{service}/rollback</c> waits for the rollback to end before answering 202 with where to
    /// ask again (<c>GET /api/rollbacks/{id}</c>); the rollback goes on either way.
    /// </summary>
    public int RollbackWaitSeconds { get; set; } = 600;

    public EnvironmentOptions For(string environment) => Environments.GetValueOrDefault(environment) ?? new EnvironmentOptions();

    /// <summary>The environment's own approvers (<c>Deployer:Environments:NAME:Approvers</c>), else <see cref="Approvers"/>.</summary>
    public IReadOnlyList<string> ApproversFor(string environment) =>
        Environments.GetValueOrDefault(environment)?.Approvers is { Count: > 0 } own ? own : Approvers;

    /// <summary>Whether deploying to, promoting into or rolling back <paramref name="environment"/> needs an approver: production unless turned off.</summary>
    public bool RequiresApproval(string environment) =>
        Environments.GetValueOrDefault(environment)?.RequiresApproval ?? environment == "production";

    /// <summary>Whether <paramref name="user"/> (a Gerrit username or an API token's user) may approve changes to <paramref name="environment"/>.</summary>
    public bool IsApprover(string environment, string? user) =>
        user is { Length: > 0 } && ApproversFor(environment).Contains(user, StringComparer.Ordinal);

    /// <summary>A manual rollback's stages: the environment's <c>Rollout</c> percentages, else canary, half, all where approval is needed and all at once elsewhere.</summary>
    public IReadOnlyList<int> RolloutPercentages(string environment) =>
        For(environment).Rollout is { Count: > 0 } r ? r : RequiresApproval(environment) ? [10, 50, 100] : [100];

    public IEnumerable<string> Validate()
    {
        if (RollbackWaitSeconds is < 0 or > 3600) yield return "Deployer:RollbackWaitSeconds must be between 0 and 3600";
        if (Backend is not ("docker" or "kubernetes")) yield return $"Deployer:Backend '{Backend}' is invalid (docker or kubernetes)";
        foreach (var (name, env) in Environments)
        {
            if (env.Replicas is < 1 or > 100) yield return $"Deployer:Environments:{name}:Replicas must be between 1 and 100";
            if (env.TimeoutSeconds is < 1 or > 3600) yield return $"Deployer:Environments:{name}:TimeoutSeconds must be between 1 and 3600";
            if (env.Rollout is { Count: > 0 } rollout && (rollout.Any(p => p is < 1 or > 100) || rollout[^1] != 100
                || rollout.Zip(rollout.Skip(1)).Any(p => p.First >= p.Second) || rollout.Count > 10))
                yield return $"Deployer:Environments:{name}:Rollout must be at most 10 increasing percentages from 1 to 100, ending with 100";
        }
        string? error = null;
        try { _ = new Regex(ApprovalPattern, RegexOptions.Multiline, TimeSpan.FromMilliseconds(100)); }
        catch (ArgumentException e) { error = $"Deployer:ApprovalPattern is invalid: {e.Message}"; }
        if (error is not null) yield return error;
        foreach (var (token, _) in ApiTokens)
            if (token.Length < 16) yield return "Deployer:ApiTokens: every token must have at least 16 characters";
    }
}

public sealed class EnvironmentOptions
{
    public int Replicas { get; set; } = 1;
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Who may approve this environment's rollouts (usernames or account ids); empty means <c>Deployer:Approvers</c>.</summary>
    public List<string> Approvers { get; set; } = [];

    /// <summary>Whether deploy and promote steps (and rollbacks) here need an approver; null: only production does.</summary>
    public bool? RequiresApproval { get; set; }

    /// <summary>Percentages of a manual rollback's stages, e.g. 10, 50, 100; null: see <see cref="DeployerOptions.RolloutPercentages"/>.</summary>
    public List<int>? Rollout { get; set; }
}
