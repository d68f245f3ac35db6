namespace Slipway.Deployer.Config;

/// <summary>One commit of a values file's history, newest first in <see cref="ConfigRegistry.HistoryAsync"/>.</summary>
/// <param name="Sha">Full commit id.</param>
/// <param name="Subject">First line of the message.</param>
/// <param name="AuthorName">Git author name.</param>
/// <param name="AuthorEmail">Git author email.</param>
/// <param name="AuthoredAt">Author date.</param>
/// <param name="Trailers">Trailers of the message (<c>Slipway-Run</c>, <c>Change</c>, ...), last value per key.</param>
public sealed record ConfigCommit(
    string Sha, string Subject, string AuthorName, string AuthorEmail, DateTimeOffset AuthoredAt,
    IReadOnlyDictionary<string, string> Trailers)
{
    /// <summary>The run the commit deployed, when it came from one.</summary>
    public string? RunId => Trailers.GetValueOrDefault(ConfigTrailers.Run);

    /// <summary>The image the file names after this commit (absent when the commit removed it).</summary>
    public string? Image => Trailers.GetValueOrDefault(ConfigTrailers.Image);

    /// <summary>The commit this one reverted, for rollbacks.</summary>
    public string? Reverts => Trailers.GetValueOrDefault(ConfigTrailers.Reverts);
}
