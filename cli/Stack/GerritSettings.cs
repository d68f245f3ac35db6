using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Cli.Stack;

/// <summary>
/// The Gerrit of the embedded stack: the project's Gerrit stand-in (real sshd serving
/// stream-events, real git http-backend, the REST subset), hosted in this CLI process, and the
/// settings that point the gateway (SSH key, known_hosts) and the reporter (HTTP password) at it.
/// </summary>
internal static class GerritSettings
{
    public static async Task<(StandIn Gerrit, Dictionary<string, string> Settings)> StartAsync(string stateDir, CancellationToken ct)
    {
        var dir = Path.Combine(stateDir, "gerrit");
        Directory.CreateDirectory(dir);
        var gerrit = await StandIn.StartAsync(dir, ct: ct);
        try
        {
            var (key, _) = await gerrit.CreateClientKeyAsync(ct);
            var knownHosts = Path.Combine(gerrit.WorkDirectory, "gateway_known_hosts");
            await File.WriteAllTextAsync(knownHosts, gerrit.KnownHostsLine + "\n", ct);
            return (gerrit, new Dictionary<string, string>
            {
                ["Gerrit__Url"] = gerrit.HttpUrl,
                ["Gerrit__HttpUser"] = gerrit.HttpUser,
                ["Gerrit__HttpPassword"] = gerrit.HttpPassword,
                ["Gerrit__Ssh__Url"] = gerrit.SshUrl,
                ["Gerrit__Ssh__PrivateKeyPath"] = key,
                ["Gerrit__Ssh__KnownHostsPath"] = knownHosts,
            });
        }
        catch
        {
            await gerrit.DisposeAsync();
            throw;
        }
    }
}
