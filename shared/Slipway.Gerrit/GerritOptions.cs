namespace Slipway.Gerrit;

/// <summary>
/// Configuration section <c>Gerrit</c>. Which keys are required depends on the service:
/// the gateway reads the SSH stream (and REST for catch-up), the reporter posts reviews over REST.
/// </summary>
public sealed class GerritOptions
{
    public const string Section = "Gerrit";

    /// <summary>Gerrit's web URL, e.g. <c>https://gerrit.example.org</c>.</summary>
    public string? Url { get; set; }
    public string? HttpUser { get; set; }
    public string? HttpPassword { get; set; }
    public GerritSshOptions Ssh { get; set; } = new();

    /// <summary>
    /// More Gerrit accounts (usernames or numeric account ids) that are Slipway itself, besides <see cref="HttpUser"/>
    /// (the account the reporter comments as) and the user of <see cref="GerritSshOptions.Url"/>. Their comments never
    /// trigger a recheck or an approval, so the pipeline never obeys what it wrote itself.
    /// </summary>
    public List<string> SlipwayAccounts { get; set; } = [];

    /// <summary>Every account that is Slipway: <see cref="SlipwayAccounts"/>, <see cref="HttpUser"/> and the SSH user.</summary>
    public IReadOnlyList<string> OwnAccounts()
    {
        var own = new List<string>(SlipwayAccounts.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()));
        if (!string.IsNullOrWhiteSpace(HttpUser)) own.Add(HttpUser.Trim());
        if (Uri.TryCreate(Ssh.Url, UriKind.Absolute, out var ssh) && ssh.UserInfo is { Length: > 0 } user) own.Add(Uri.UnescapeDataString(user));
        return own.Distinct(StringComparer.Ordinal).ToList();
    }

    public IEnumerable<string> ValidateRest(bool requireCredentials)
    {
        if (string.IsNullOrWhiteSpace(Url)) yield return "Gerrit:Url is required (e.g. https://gerrit.example.org)";
        else if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            yield return $"Gerrit:Url '{Url}' is invalid (want http(s)://host[:port][/path])";
        if (!requireCredentials) yield break;
        if (string.IsNullOrWhiteSpace(HttpUser)) yield return "Gerrit:HttpUser is required";
        if (string.IsNullOrWhiteSpace(HttpPassword)) yield return "Gerrit:HttpPassword is required";
    }

    public IEnumerable<string> ValidateSsh()
    {
        if (string.IsNullOrWhiteSpace(Ssh.Url)) yield return "Gerrit:Ssh:Url is required (e.g. ssh://bot@gerrit.example.org:29418)";
        else if (!Uri.TryCreate(Ssh.Url, UriKind.Absolute, out var uri) || uri.Scheme != "ssh" || string.IsNullOrEmpty(uri.UserInfo))
            yield return $"Gerrit:Ssh:Url '{Ssh.Url}' is invalid (want ssh://user@host:port)";
        if (string.IsNullOrWhiteSpace(Ssh.PrivateKeyPath)) yield return "Gerrit:Ssh:PrivateKeyPath is required";
        else if (!File.Exists(Ssh.PrivateKeyPath)) yield return $"Gerrit:Ssh:PrivateKeyPath '{Ssh.PrivateKeyPath}' does not exist";
        if (string.IsNullOrWhiteSpace(Ssh.KnownHostsPath)) yield return "Gerrit:Ssh:KnownHostsPath is required (the server's host key is always verified)";
        else if (!File.Exists(Ssh.KnownHostsPath)) yield return $"Gerrit:Ssh:KnownHostsPath '{Ssh.KnownHostsPath}' does not exist";
    }

    public override string ToString() => $"{Url} as {HttpUser}; ssh {Ssh.Url}"; // never the password
}

public sealed class GerritSshOptions
{
    public string? Url { get; set; }
    public string? PrivateKeyPath { get; set; }
    public string? KnownHostsPath { get; set; }
}
