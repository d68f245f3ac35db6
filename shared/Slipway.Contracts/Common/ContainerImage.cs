using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// An image in a registry: pull it by <c>Uri@Digest</c> (exact) or <c>Uri:tag</c>.
/// </summary>
[Description("An image in a registry; pull it by uri@digest or uri:tag.")]
public sealed record ContainerImage
{
    /// <summary>Repository, without tag or digest, e.g. <c>registry.example.org/wikimedia/foo</c>.</summary>
    [Description("Repository without tag or digest, e.g. registry.example.org/wikimedia/foo.")]
    [MaxLength(512)]
    public required string Uri { get; init; }

    /// <summary>Tags pushed, e.g. <c>2024-05-01-101500-production</c> and the commit SHA. Never <c>latest</c>.</summary>
    [Description("Tags pushed (e.g. <UTC timestamp>-production and the commit SHA); never 'latest'.")]
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Manifest digest, <c>sha256:&lt;64 hex&gt;</c>.</summary>
    [Description("Manifest digest.")]
    [RegularExpression(ContractPatterns.Digest)]
    public required string Digest { get; init; }
}
