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

    /// <summary>API tokens of the deployer's HTTP API (used by <c>slipway approve</c> and <c>slipway rollback</c>): token → user name.</summary>
    public Dictionary<string, string> ApiTokens { get; set; } = new(StringComparer.Ordinal);

    public EnvironmentOptions For(string environment) => Environments.GetValueOrDefault(environment) ?? new EnvironmentOptions();

    /// <summary>The environment's own approvers (<c>Deployer:Environments:NAME:Approvers</c>), else <see cref="Approvers"/>.</summary>
    public IReadOnlyList<string> ApproversFor(string environment) =>
        Environments.GetValueOrDefault(environment)?.Approvers is { Count: > 0 } own ? own : Approvers;

    public IEnumerable<string> Validate()
    {
        if (Backend is not ("docker" or "kubernetes")) yield return $"Deployer:Backend '{Backend}' is invalid (docker or kubernetes)";
        foreach (var (name, env) in Environments)
        {
            if (env.Replicas is < 1 or > 100) yield return $"Deployer:Environments:{name}:Replicas must be between 1 and 100";
            if (env.TimeoutSeconds is < 1 or > 3600) yield return $"Deployer:Environments:{name}:TimeoutSeconds must be between 1 and 3600";
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
}
