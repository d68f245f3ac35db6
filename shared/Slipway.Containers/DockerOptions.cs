using Slipway.Hosting;

namespace Slipway.Containers;

/// <summary>Configuration section <c>Docker</c>: the container engine to talk to.</summary>
public sealed class DockerOptions : IValidatableOptions
{
    public const string Section = "Docker";

    /// <summary><c>unix:///var/run/docker.sock</c> (default) or <c>tcp://host:port</c>.</summary>
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    public IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
            yield return $"Docker:Endpoint '{Endpoint}' is invalid (want unix:///path/docker.sock or tcp://host:port)";
    }
}
