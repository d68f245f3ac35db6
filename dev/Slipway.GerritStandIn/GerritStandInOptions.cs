namespace Slipway.GerritStandIn;

/// <summary>Settings of a <see cref="GerritStandIn"/>. Defaults suit tests.</summary>
public sealed class GerritStandInOptions
{
    /// <summary>The HTTP user for `/a/` (REST and git); its HTTP password is <see cref="HttpPassword"/>.</summary>
    public string HttpUser { get; set; } = "slipway";
    public string HttpPassword { get; set; } = "secret-http-password";
    /// <summary>The HTTP password of the default developer account (`jane`), for `git push` as a developer. Null: none.</summary>
    public string? DeveloperHttpPassword { get; set; } = "secret-developer-password";
    /// <summary>Gerrit's `receive.requireChangeId` (default true): a push for review whose commit has no Change-Id footer is refused.</summary>
    public bool RequireChangeId { get; set; } = true;
    /// <summary>Whether the events-log plugin is installed (off: its endpoints answer 404).</summary>
    public bool EventsLogEnabled { get; set; } = true;
    /// <summary>The events-log plugin's `returnLimit`.</summary>
    public int EventsLogReturnLimit { get; set; } = 5000;
    /// <summary>
    /// Emit `ref-updated` for each new `refs/changes/NN/N/P` before `patchset-created`, as Gerrit does.
    /// (NoteDb `/meta` refs are not simulated.)
    /// </summary>
    public bool EmitChangeRefUpdates { get; set; } = true;
    /// <summary>Sets `instanceId` on every event (Gerrit 3.2+ with `gerrit.instanceId`); null: omitted.</summary>
    public string? InstanceId { get; set; }
    /// <summary>Installs missing Debian packages (openssh-server, curl) with apt when true.</summary>
    public bool InstallMissingPackages { get; set; } = true;
    /// <summary>Leave the temp directory on disk after dispose (for debugging).</summary>
    public bool KeepDirectory { get; set; }
    /// <summary>Log lines of the stand-in (sshd's stderr, HTTP errors). Null: discarded.</summary>
    public Action<string>? Log { get; set; }
}
