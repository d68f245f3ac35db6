namespace Slipway.Publisher.Registry;

/// <summary>
/// A manifest as the registry serves it: its digest (<c>Docker-Content-Digest</c>), media type, and
/// for a single-image manifest the digest of its config blob, which is the Docker engine's image id.
/// </summary>
public sealed record RegistryManifest(string Digest, string MediaType, string? ConfigDigest)
{
    /// <summary>The manifest's bytes as the registry served them (what a PUT under another tag sends back unchanged).</summary>
    public byte[]? Body { get; init; }
}
