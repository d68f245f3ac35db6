using System.Text.RegularExpressions;
using Slipway.Pipeline.Planning;
using Slipway.Hosting;

namespace Slipway.Builder.Runs;

/// <summary>
/// The operator's release policy the planner applies to every run (bound from the configuration root, since it spans
/// sections): <c>Pipeline:ReleaseBranches</c>, <c>Pipeline:ServiceOwners:&lt;service&gt;</c> and, shared with the deployer so
/// one key says it, <c>Deployer:Environments:&lt;name&gt;:RequiresApproval</c> (production: true unless set).
/// </summary>
public sealed partial class ReleasePolicyOptions : IValidatableOptions
{
    public PipelineSection Pipeline { get; set; } = new();

    public DeployerSection Deployer { get; set; } = new();

    public sealed class PipelineSection
    {
        /// <summary>Branches whose merges publish and deploy; null means <c>master</c> and <c>main</c>.</summary>
        public List<string>? ReleaseBranches { get; set; }

        /// <summary>A new tag's run publishes, deploys and promotes as a release branch's merge does (PipelineLib's publish pipeline).</summary>
        public bool ReleaseTags { get; set; } = true;

        /// <summary>Service (chart) name → the Gerrit project that owns it.</summary>
        public Dictionary<string, string> ServiceOwners { get; set; } = new(StringComparer.Ordinal);

        /// <summary>
        /// <c>run.credentials</c>: credential id → its projects (<c>Pipeline:Credentials:&lt;id&gt;:Projects</c>). The builder
        /// plans with the allow-list only; the value (<c>:Value</c>) is read by the tester, which binds it.
        /// </summary>
        public Dictionary<string, CredentialGrant> Credentials { get; set; } = new(StringComparer.Ordinal);

        /// <summary>
        /// The reporter's public URL (as <c>Reporter:PublicUrl</c>), which <c>${&lt;stage&gt;.artifactURLs}</c>'s links start
        /// with; unset, a config using that output is refused at planning.
        /// </summary>
        public string? ArtifactBaseUrl { get; set; }
    }

    public sealed class CredentialGrant
    {
        public List<string> Projects { get; set; } = [];
    }

    public sealed class DeployerSection
    {
        public Dictionary<string, EnvironmentApproval> Environments { get; set; } = new(StringComparer.Ordinal);
    }

    public sealed class EnvironmentApproval
    {
        public bool? RequiresApproval { get; set; }
    }

    /// <summary>Environments whose deploy and promote steps wait for approval: production unless turned off, and every one turned on.</summary>
    public IReadOnlySet<string> ApprovalEnvironments()
    {
        var set = new HashSet<string>(StringComparer.Ordinal) { "production" };
        foreach (var (name, env) in Deployer.Environments)
            if (env.RequiresApproval == true) set.Add(name);
            else if (env.RequiresApproval == false) set.Remove(name);
        return set;
    }

    public PlanningOptions ToPlanningOptions() => PlanningOptions.Default with
    {
        ApprovalEnvironments = ApprovalEnvironments(),
        ReleaseBranches = Pipeline.ReleaseBranches is { Count: > 0 } branches ? branches : PlanningOptions.Default.ReleaseBranches,
        ReleaseTags = Pipeline.ReleaseTags,
        ServiceOwners = Pipeline.ServiceOwners,
        Credentials = Pipeline.Credentials.ToDictionary(c => c.Key, c => (IReadOnlyList<string>)c.Value.Projects, StringComparer.Ordinal),
        ArtifactBaseUrl = string.IsNullOrWhiteSpace(Pipeline.ArtifactBaseUrl) ? null : Pipeline.ArtifactBaseUrl.TrimEnd('/'),
    };

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(Pipeline.ArtifactBaseUrl)
            && (Pipeline.ArtifactBaseUrl.Length > 512 || !Uri.TryCreate(Pipeline.ArtifactBaseUrl, UriKind.Absolute, out var artifactBase)
                || artifactBase.Scheme is not ("http" or "https") || artifactBase.Query.Length > 0 || artifactBase.Fragment.Length > 0
                || artifactBase.UserInfo.Length > 0 || Pipeline.ArtifactBaseUrl.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
            yield return $"Pipeline:ArtifactBaseUrl '{Pipeline.ArtifactBaseUrl}' is invalid (want http(s)://host[:port][/path], without query, fragment or credentials)";
        foreach (var branch in Pipeline.ReleaseBranches ?? [])
            if (string.IsNullOrWhiteSpace(branch) || branch.Length > 255 || branch.Any(char.IsControl) || branch.StartsWith("refs/", StringComparison.Ordinal))
                yield return $"Pipeline:ReleaseBranches: '{branch}' is not a branch short name (e.g. master)";
        foreach (var (service, project) in Pipeline.ServiceOwners)
        {
            if (!ServiceName().IsMatch(service)) yield return $"Pipeline:ServiceOwners: '{service}' is not a service name (lowercase letters, digits, '-')";
            if (string.IsNullOrWhiteSpace(project) || project.Length > 255 || project.Any(char.IsControl))
                yield return $"Pipeline:ServiceOwners:{service} must name a Gerrit project";
        }
        foreach (var (id, grant) in Pipeline.Credentials)
        {
            if (!CredentialId().IsMatch(id)) yield return $"Pipeline:Credentials: '{id}' is not a credential id (letters, digits, '.', '_', '-', at most 128)";
            if (grant.Projects.Any(p => string.IsNullOrWhiteSpace(p) || p.Length > 255 || p.Any(char.IsControl)))
                yield return $"Pipeline:Credentials:{id}:Projects must list Gerrit project names";
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}\z")]
    private static partial Regex CredentialId();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z")]
    private static partial Regex ServiceName();
}
