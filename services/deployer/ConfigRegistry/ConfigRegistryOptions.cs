using System.Text.RegularExpressions;
using Slipway.Hosting;

namespace Slipway.Deployer.Config;

/// <summary>Configuration section <c>ConfigRegistry</c>: the git repository holding every environment's values.</summary>
public sealed partial class ConfigRegistryOptions : IValidatableOptions
{
    public const string Section = "ConfigRegistry";

    /// <summary>The repository to clone and push to: a bare repo path (embedded) or a git URL (a Gerrit project).</summary>
    public string RepositoryUrl { get; set; } = "";

    /// <summary>Where the working clone lives; owned by this deployer instance.</summary>
    public string WorkDir { get; set; } = "";

    /// <summary>The branch holding the values.</summary>
    public string Branch { get; set; } = "main";

    /// <summary>Create <see cref="RepositoryUrl"/> with <c>git init --bare</c> when it is a local path that does not exist (embedded setup).</summary>
    public bool CreateIfMissing { get; set; }

    /// <summary>Commit author and committer.</summary>
    public string AuthorName { get; set; } = "Slipway deployer";

    /// <summary>Commit author and committer email.</summary>
    public string AuthorEmail { get; set; } = "slipway@localhost";

    /// <summary>How often a push that lost a race with another writer is retried on the new tip.</summary>
    public int MaxPushAttempts { get; set; } = 5;

    /// <summary>Time limit for one git command.</summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(RepositoryUrl)) yield return "ConfigRegistry:RepositoryUrl is required (a bare repo path or a git URL)";
        if (string.IsNullOrWhiteSpace(WorkDir)) yield return "ConfigRegistry:WorkDir is required (a directory for the working clone)";
        if (!BranchName().IsMatch(Branch)) yield return $"ConfigRegistry:Branch '{Branch}' is not a plain branch name";
        if (string.IsNullOrWhiteSpace(AuthorName) || AuthorName.IndexOfAny(['<', '>', '\n']) >= 0) yield return "ConfigRegistry:AuthorName is invalid";
        if (string.IsNullOrWhiteSpace(AuthorEmail) || AuthorEmail.IndexOfAny(['<', '>', '\n', ' ']) >= 0) yield return "ConfigRegistry:AuthorEmail is invalid";
        if (MaxPushAttempts is < 1 or > 50) yield return "ConfigRegistry:MaxPushAttempts must be 1-50";
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}\z")]
    private static partial Regex BranchName();
}
