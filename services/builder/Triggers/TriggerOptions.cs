using System.Text.RegularExpressions;
using Slipway.Hosting;

namespace Slipway.Builder.Triggers;

/// <summary>When a Gerrit event starts a run, for one project (or the default for all).</summary>
public sealed class TriggerRule
{
    /// <summary>New patch sets start a run.</summary>
    public bool Patchsets { get; set; } = true;

    /// <summary>Skip patch sets Gerrit classifies as TRIVIAL_REBASE (same code on a new parent).</summary>
    public bool SkipTrivialRebase { get; set; } = true;

    /// <summary>Skip patch sets Gerrit classifies as NO_CODE_CHANGE or NO_CHANGE (only the commit message changed).</summary>
    public bool SkipNoCodeChange { get; set; } = true;

    /// <summary>A merged change (and the branch update it causes) starts a run that publishes and deploys.</summary>
    public bool Merges { get; set; } = true;

    /// <summary>A direct push to a branch starts a run like a merge.</summary>
    public bool RefUpdates { get; set; } = true;

    /// <summary>A comment whose text (after Gerrit's "Patch Set N:" header) matches starts a new run.</summary>
    public string RecheckPattern { get; set; } = @"^\s*recheck\s*$";

    /// <summary>Also run for work-in-progress changes.</summary>
    public bool WorkInProgress { get; set; }

    /// <summary>Also run for private changes.</summary>
    public bool Private { get; set; }

    /// <summary>Branches (short names; '*' matches any run of characters) whose changes and updates start runs.</summary>
    public List<string> Branches { get; set; } = ["*"];

    public IEnumerable<string> Validate(string path)
    {
        string? error = null;
        try { _ = new Regex(RecheckPattern, RegexOptions.Multiline, TimeSpan.FromMilliseconds(100)); }
        catch (ArgumentException e) { error = $"{path}:RecheckPattern is not a valid regular expression: {e.Message}"; }
        if (error is not null) yield return error;
        if (Branches.Count == 0) yield return $"{path}:Branches must list at least one branch pattern ('*' for all)";
    }
}

/// <summary><c>Builder:Triggers</c>: the default rule and per-project overrides (a project's rule replaces the default).</summary>
public sealed class TriggerOptions : IValidatableOptions
{
    public const string Section = "Builder:Triggers";

    public TriggerRule Default { get; set; } = new();

    public Dictionary<string, TriggerRule> Projects { get; set; } = new(StringComparer.Ordinal);

    public TriggerRule For(string project) => Projects.GetValueOrDefault(project) ?? Default;

    public IEnumerable<string> Validate() =>
        Default.Validate($"{Section}:Default").Concat(Projects.SelectMany(p => p.Value.Validate($"{Section}:Projects:{p.Key}")));
}
