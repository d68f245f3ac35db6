namespace Slipway.Deployer.Config;

/// <summary>Trailer keys of configuration commits: a stable format that tools and people grep for.</summary>
public static class ConfigTrailers
{
    public const string Environment = "Slipway-Environment";
    public const string Service = "Slipway-Service";
    public const string Image = "Slipway-Image";
    public const string Run = "Slipway-Run";
    public const string Change = "Change";
    public const string ChangeNumber = "Change-Number";
    public const string Patchset = "Patchset";
    public const string Revision = "Revision";
    public const string RequestedBy = "Requested-By";
    public const string Reverts = "Slipway-Reverts";

    /// <summary>On a rollback: the earlier deploy commit whose values it restores.</summary>
    public const string Restores = "Slipway-Restores";

    /// <summary>On a manual rollback: the request it carries out, so a resumed or repeated request finds its commit instead of making another.</summary>
    public const string RollbackRequest = "Slipway-Rollback-Request";
}
