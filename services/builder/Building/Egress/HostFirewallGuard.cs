using System.Diagnostics;
using System.Net;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// iptables INPUT rules on the build network's bridge: a build step may open a TCP connection to the proxy's port
/// on the gateway address and to nothing else on the host. Docker's internal network already drops forwarding to
/// other networks and the outside; traffic to the host's own addresses is not forwarding, so it needs these rules.
/// IPv6 from the bridge to the host is dropped entirely (the build network has no IPv6).
/// </summary>
public sealed class HostFirewallGuard
{
    private readonly string[][] _v4Rules;
    private readonly string[] _v6Rule;
    private readonly string _tag;

    public HostFirewallGuard(string bridge, IPAddress gateway, int port)
    {
        _tag = Tag(bridge);
        var tag = new[] { "-m", "comment", "--comment", _tag };
        // Inserted at position 1 in this order, so the ACCEPT ends up above the DROP.
        _v4Rules =
        [
            ["INPUT", "-i", bridge, .. tag, "-j", "DROP"],
            ["INPUT", "-i", bridge, "-p", "tcp", "-d", gateway.ToString(), "--dport", port.ToString(), .. tag, "-j", "ACCEPT"],
        ];
        _v6Rule = ["INPUT", "-i", bridge, .. tag, "-j", "DROP"];
    }

    /// <summary>The comment every rule for <paramref name="bridge"/> carries.</summary>
    public static string Tag(string bridge) => $"slipway-egress:{bridge}";

    /// <summary>Installs the rules (removing stale copies first); throws with iptables' message when it cannot.</summary>
    public async Task InstallAsync(CancellationToken ct)
    {
        await RemoveAsync();
        foreach (var rule in _v4Rules)
            await RunAsync("iptables", ["-w", "5", "-I", rule[0], "1", .. rule[1..]], ct, mustSucceed: true);
        if (File.Exists("/proc/net/if_inet6"))
            await RunAsync("ip6tables", ["-w", "5", "-I", _v6Rule[0], "1", .. _v6Rule[1..]], ct, mustSucceed: false);
    }

    /// <summary>Removes every rule carrying this bridge's tag (also stale ones for an older proxy port); none is fine.</summary>
    public async Task RemoveAsync()
    {
        foreach (var tool in new[] { "iptables", "ip6tables" })
        {
            var (ok, listing) = await RunAsync(tool, ["-w", "5", "-S", "INPUT"], CancellationToken.None, mustSucceed: false);
            if (!ok) continue;
            foreach (var line in listing.Split('\n'))
            {
                // -S prints the rule as it was added (the comment possibly quoted; ours has no spaces).
                var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('"')).ToArray();
                if (words is ["-A", "INPUT", ..] && words.Contains(_tag))
                    await RunAsync(tool, ["-w", "5", "-D", .. words[1..]], CancellationToken.None, mustSucceed: false);
            }
        }
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string tool, string[] args, CancellationToken ct, bool mustSucceed)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            if (mustSucceed) throw new InvalidOperationException($"cannot run {tool}: {e.Message}", e);
            return (false, "");
        }
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            var stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0 && mustSucceed)
                throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {(await stderr).Trim()}");
            return (process.ExitCode == 0, stdout);
        }
    }
}
