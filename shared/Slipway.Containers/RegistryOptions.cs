using Slipway.Hosting;

namespace Slipway.Containers;

/// <summary>Configuration section <c>Registry</c>: where images are published (push credentials: the publisher only).</summary>
public sealed class RegistryOptions : IValidatableOptions
{
    public const string Section = "Registry";

    /// <summary>Registry host and port, e.g. <c>127.0.0.1:5000</c> (an http(s):// prefix is allowed).</summary>
    public string? Url { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Url))
            yield return "Registry:Url is required (e.g. 127.0.0.1:5000)";
        else if (!Uri.TryCreate(Url.Contains("://") ? Url : "https://" + Url, UriKind.Absolute, out var uri) || uri.AbsolutePath.Trim('/').Length > 0)
            yield return $"Registry:Url '{Url}' is invalid (want host[:port])";
        if (string.IsNullOrWhiteSpace(Username)) yield return "Registry:Username is required";
        if (string.IsNullOrWhiteSpace(Password)) yield return "Registry:Password is required";
    }

    public override string ToString() => $"{Url} as {Username}"; // never the password
}
