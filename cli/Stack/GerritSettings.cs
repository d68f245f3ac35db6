using System.Diagnostics;
using System.Security.Cryptography;

namespace Slipway.Cli.Stack;

/// <summary>
/// Gerrit settings for the gateway and the reporter in the embedded stack: the gateway's SSH
/// key pair and known_hosts, and the reporter's HTTP password, generated once per state dir.
/// The Gerrit stand-in that serves them (sshd, git http-backend, REST) is not part of the
/// stack yet; until it is, these services start with valid settings but have no Gerrit to reach.
/// </summary>
internal static class GerritSettings
{
    public const int StandInHttpPort = 48080;
    public const int StandInSshPort = 48022;

    public static async Task<Dictionary<string, string>> EnsureAsync(string stateDir, CancellationToken ct)
    {
        var dir = Path.Combine(stateDir, "gerrit");
        Directory.CreateDirectory(dir);
        var key = Path.Combine(dir, "id_ed25519");
        if (!File.Exists(key))
        {
            using var keygen = Process.Start(new ProcessStartInfo("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "slipway-gateway", "-f", key])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            await keygen.WaitForExitAsync(ct);
            if (keygen.ExitCode != 0) throw new InvalidOperationException("ssh-keygen failed: " + await keygen.StandardError.ReadToEndAsync(ct));
        }
        var knownHosts = Path.Combine(dir, "known_hosts");
        if (!File.Exists(knownHosts)) await File.WriteAllTextAsync(knownHosts, "", ct);
        var passwordFile = Path.Combine(dir, "http-password");
        if (!File.Exists(passwordFile))
        {
            await File.WriteAllTextAsync(passwordFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(), ct);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new Dictionary<string, string>
        {
            ["Gerrit__Url"] = $"http://127.0.0.1:{StandInHttpPort}",
            ["Gerrit__HttpUser"] = "slipway-bot",
            ["Gerrit__HttpPassword"] = (await File.ReadAllTextAsync(passwordFile, ct)).Trim(),
            ["Gerrit__Ssh__Url"] = $"ssh://slipway-bot@127.0.0.1:{StandInSshPort}",
            ["Gerrit__Ssh__PrivateKeyPath"] = key,
            ["Gerrit__Ssh__KnownHostsPath"] = knownHosts,
        };
    }
}
