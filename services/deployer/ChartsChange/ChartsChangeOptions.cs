using System.Text.RegularExpressions;
using Slipway.Gerrit;
using Slipway.Hosting;

namespace Slipway.Deployer.ChartsChange;

/// <summary>
/// <c>Deployer:Promote</c>: where a promote step proposes the new image version for reviewers, as PipelineLib did with
/// operations/deployment-charts. Off unless <see cref="Enabled"/>. The push uses these (the operator's) credentials only.
/// </summary>
public sealed partial class ChartsChangeOptions : IValidatableOptions
{
    public const string Section = "Deployer:Promote";

    /// <summary>Whether promote steps also open a change in <see cref="GerritProject"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The charts repository's Gerrit project, e.g. <c>operations/deployment-charts</c>.</summary>
    public string GerritProject { get; set; } = "";

    /// <summary>The branch the change is for (pushed to <c>refs/for/BRANCH</c>).</summary>
    public string Branch { get; set; } = "master";

    /// <summary>The values file edited when every environment is promoted; <c>{chart}</c> is replaced.</summary>
    public string ValuesPath { get; set; } = "helmfile.d/services/{chart}/values.yaml";

    /// <summary>The values file edited for one environment; <c>{chart}</c> and <c>{environment}</c> are replaced.</summary>
    public string EnvironmentValuesPath { get; set; } = "helmfile.d/services/{chart}/values-{environment}.yaml";

    /// <summary>
    /// The environments of the charts repository; empty: <see cref="DefaultEnvironments"/>. A promote with no environments,
    /// or with all of these, sets the version in <see cref="ValuesPath"/> and removes it from each environment's file, as
    /// update_version.py does. Empty rather than the defaults because the configuration binder appends to a list it finds
    /// filled: an operator's list would have come on top of the defaults.
    /// </summary>
    public List<string> Environments { get; set; } = [];

    /// <summary>deployment-charts' update_version.py's environments.</summary>
    public static readonly IReadOnlyList<string> DefaultEnvironments = ["staging", "codfw", "eqiad"];

    /// <summary><see cref="Environments"/>, or <see cref="DefaultEnvironments"/> when none are configured.</summary>
    public IReadOnlyList<string> EffectiveEnvironments => Environments.Count == 0 ? DefaultEnvironments : Environments;

    /// <summary>The change's topic (PipelineLib: <c>pipeline-promote</c>).</summary>
    public string Topic { get; set; } = "pipeline-promote";

    /// <summary>
    /// Gerrit accounts (username, email or account id) added as reviewers of every promote change, with the push that
    /// opens it (push option <c>r=</c>); Gerrit refuses the push when one names no account.
    /// </summary>
    public List<string> Reviewers { get; set; } = [];

    /// <summary>The bound on <see cref="Reviewers"/>.</summary>
    public const int MaxReviewers = 20;

    /// <summary>Gerrit's HTTP URL; empty: <c>Gerrit:Url</c>.</summary>
    public string? Url { get; set; }

    /// <summary>The account that pushes; empty: <c>Gerrit:HttpUser</c>.</summary>
    public string? HttpUser { get; set; }

    /// <summary>Its HTTP password; empty: <c>Gerrit:HttpPassword</c>.</summary>
    public string? HttpPassword { get; set; }

    /// <summary>Commit author and committer.</summary>
    public string AuthorName { get; set; } = "Slipway pipeline bot";

    /// <summary>Commit author and committer email.</summary>
    public string AuthorEmail { get; set; } = "slipway@localhost";

    /// <summary>Time limit for one git command.</summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>These options with the Gerrit connection filled in from <c>Gerrit</c> where not given here.</summary>
    public ChartsChangeOptions WithGerritDefaults(GerritOptions? gerrit)
    {
        Url = string.IsNullOrWhiteSpace(Url) ? gerrit?.Url : Url;
        HttpUser = string.IsNullOrWhiteSpace(HttpUser) ? gerrit?.HttpUser : HttpUser;
        HttpPassword = string.IsNullOrWhiteSpace(HttpPassword) ? gerrit?.HttpPassword : HttpPassword;
        return this;
    }

    public IEnumerable<string> Validate()
    {
        if (!Enabled) yield break;
        if (!ProjectName().IsMatch(GerritProject) || GerritProject.Split('/').Any(p => p is "." or ".." || p.EndsWith(".git", StringComparison.Ordinal)))
            yield return $"{Section}:GerritProject '{GerritProject}' is not a Gerrit project name";
        if (!BranchName().IsMatch(Branch) || Branch.Contains("..", StringComparison.Ordinal)) yield return $"{Section}:Branch '{Branch}' is not a plain branch name";
        foreach (var (key, template, placeholders) in new[] { ("ValuesPath", ValuesPath, new[] { "{chart}" }), ("EnvironmentValuesPath", EnvironmentValuesPath, ["{chart}", "{environment}"]) })
        {
            if (ChartsPaths.TemplateError(template, placeholders) is { } error) yield return $"{Section}:{key} {error}";
        }
        if (Environments.Any(e => !ChartsPaths.IsEnvironmentName(e))) yield return $"{Section}:Environments must list plain environment names";
        if (!TopicName().IsMatch(Topic)) yield return $"{Section}:Topic must be 1-64 letters, digits, '.', '_' or '-'";
        if (Reviewers.Count > MaxReviewers) yield return $"{Section}:Reviewers lists {Reviewers.Count} accounts; at most {MaxReviewers}";
        // They go into the pushed ref's options (`%topic=…,r=…`): a ',', '%' or space would change what Gerrit reads.
        foreach (var bad in Reviewers.Where(r => r is null || !ReviewerName().IsMatch(r)))
            yield return $"{Section}:Reviewers entry '{bad}' is not a Gerrit username, email or account id (letters, digits, '.', '_', '-', '@')";
        if (Reviewers.Count != Reviewers.Distinct(StringComparer.OrdinalIgnoreCase).Count()) yield return $"{Section}:Reviewers lists an account twice";
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            yield return $"{Section}:Url (or Gerrit:Url) must be Gerrit's http(s) URL";
        if (string.IsNullOrWhiteSpace(HttpUser) || string.IsNullOrEmpty(HttpPassword))
            yield return $"{Section}:HttpUser and HttpPassword (or Gerrit's) are required to push the change";
        if (string.IsNullOrWhiteSpace(AuthorName) || AuthorName.IndexOfAny(['<', '>', '\n']) >= 0) yield return $"{Section}:AuthorName is invalid";
        if (string.IsNullOrWhiteSpace(AuthorEmail) || AuthorEmail.IndexOfAny(['<', '>', '\n', ' ']) >= 0) yield return $"{Section}:AuthorEmail is invalid";
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}\z")]
    private static partial Regex ProjectName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}\z")]
    private static partial Regex BranchName();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex TopicName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}\z")]
    private static partial Regex ReviewerName();
}
