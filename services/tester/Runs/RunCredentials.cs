using System.Text.RegularExpressions;
using Slipway.Contracts;
using Slipway.Hosting;

namespace Slipway.Tester.Runs;

/// <summary>
/// Configuration section <c>Pipeline</c>, key <c>Credentials</c>: the operator's named secrets for PipelineLib's
/// <c>run.credentials</c> (as Jenkins credentials were), <c>Pipeline:Credentials:&lt;id&gt;:Value</c> and the projects
/// allowed to use each, <c>Pipeline:Credentials:&lt;id&gt;:Projects</c>. The builder reads the same allow-list to plan.
/// </summary>
public sealed partial class RunCredentialsOptions : IValidatableOptions
{
    public const string Section = "Pipeline";

    /// <summary>Largest value: an SSH key fits, a file does not.</summary>
    public const int MaxValueChars = 16 * 1024;

    public Dictionary<string, Credential> Credentials { get; set; } = new(StringComparer.Ordinal);

    public sealed class Credential
    {
        public string? Value { get; set; }

        public List<string> Projects { get; set; } = [];
    }

    public IEnumerable<string> Validate()
    {
        foreach (var (id, c) in Credentials)
        {
            if (!Id().IsMatch(id)) yield return $"Pipeline:Credentials: '{id}' is not a credential id (letters, digits, '.', '_', '-', at most 128)";
            // Docker passes the environment as NUL-terminated strings; a value must fit in one.
            if (c.Value is not { Length: > 0 and <= MaxValueChars } value || value.Contains('\0'))
                yield return $"Pipeline:Credentials:{id}:Value must be set, at most {MaxValueChars} characters, without NUL";
            if (c.Projects.Any(p => string.IsNullOrWhiteSpace(p) || p.Length > 255 || p.Any(char.IsControl)))
                yield return $"Pipeline:Credentials:{id}:Projects must list Gerrit project names";
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}\z")]
    private static partial Regex Id();
}

/// <summary>
/// Binds a run step's <c>run.credentials</c> to environment variables, checking again what the planner checked: a
/// run after merge, a project the operator allows, a credential that exists. A refusal is a failed step with the reason.
/// </summary>
public sealed class RunCredentials(RunCredentialsOptions options)
{
    public sealed record Binding(IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> Secrets);

    /// <summary>The variables to set and the values to mask; null with <paramref name="refusal"/> when the step may not have them.</summary>
    public Binding? Bind(RunTrigger trigger, IReadOnlyList<RunCredential>? credentials, out string? refusal)
    {
        refusal = null;
        if (credentials is not { Count: > 0 }) return new Binding(new Dictionary<string, string>(), []);
        if (trigger.Kind is not (TriggerKind.Merge or TriggerKind.RefUpdate))
        {
            refusal = "run.credentials: credentials are given only to runs after merge, never to a patch set's run";
            return null;
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new List<string>();
        foreach (var c in credentials)
        {
            if (!options.Credentials.TryGetValue(c.Id, out var configured) || configured.Value is not { Length: > 0 } value
                || !configured.Projects.Contains(trigger.Project, StringComparer.Ordinal))
            {
                refusal = $"Invalid Credential: '{c.Id}' is not allowed for {trigger.Project} (Pipeline:Credentials:<id>:Projects)";
                return null;
            }
            env[c.Name] = value;
            secrets.Add(value);
        }
        return new Binding(env, secrets);
    }
}

/// <summary>
/// Masks secrets in text that leaves the tester (output tails, reasons): every occurrence of a value, and of each line
/// of a multi-line value, becomes <c>****</c>, as Jenkins masked bound credentials.
/// </summary>
public static class SecretMask
{
    public const string Mask = "****";

    // Lines shorter than this of a multi-line secret (e.g. "-----END …" is long, a blank line is not) are not masked alone.
    private const int MinPartLength = 8;

    public static string? Apply(string? text, IReadOnlyList<string> secrets)
    {
        if (text is null || secrets.Count == 0) return text;
        var parts = secrets.Where(s => s.Length > 0)
            .SelectMany(s => new[] { s }.Concat(s.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length >= MinPartLength)))
            .Distinct().OrderByDescending(p => p.Length); // the whole value before its lines
        foreach (var part in parts) text = text.Replace(part, Mask, StringComparison.Ordinal);
        return text;
    }
}
