namespace Slipway.Deployer.Config;

/// <summary>
/// What a configuration commit carries and who asked for it. Written as trailers in the commit message, so
/// <c>git log</c> of the registry is the audit trail of every deployment.
/// </summary>
/// <param name="RunId">The pipeline run (trailer <c>Slipway-Run</c>).</param>
/// <param name="ChangeUrl">The Gerrit change URL (trailer <c>Change</c>).</param>
/// <param name="ChangeNumber">The Gerrit change number (trailer <c>Change-Number</c>).</param>
/// <param name="Patchset">The patchset (trailer <c>Patchset</c>).</param>
/// <param name="Revision">The source commit built (trailer <c>Revision</c>).</param>
/// <param name="By">Who asked: the change owner or approver, or the CLI user (trailer <c>Requested-By</c>).</param>
public sealed record DeploymentProvenance(
    string? RunId = null, string? ChangeUrl = null, int? ChangeNumber = null, int? Patchset = null,
    string? Revision = null, string? By = null);
