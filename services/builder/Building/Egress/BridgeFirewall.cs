using System.Diagnostics;
using System.Net;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// iptables rules that confine the engine's default bridge, where BuildKit runs build steps in network mode
/// <c>default</c> (dockerd's BuildKit accepts no other network): a new connection from the bridge may go to the
/// proxy's port on the gateway address and nowhere else — not to the host (INPUT), not out of the bridge and not to
/// another container on it (FORWARD, through Docker's <c>DOCKER-USER</c> chain; bridged traffic passes it with
/// <c>br_netfilter</c>, which Docker loads). Replies to connections made into containers stay allowed.
/// IPv6 from the bridge is dropped the same way (the proxy is IPv4).
/// <para>
/// The rules cover every container on the default bridge, not only build steps: while the builder's egress path is up,
/// containers there make no new connection except to the proxy. Every rule carries this process's tag
/// (<c>slipway-egress:PID:START:NONCE</c>, one nonce per egress path); the accept rules of several builder processes share one chain, so one
/// process's rules never shadow another's.
/// </para>
/// </summary>
public sealed class BridgeFirewall
{
    /// <summary>The chain new connections from the bridge to the host go through: one ACCEPT per proxy, then DROP.</summary>
    public const string InputChain = "SLIPWAY-EGRESS";

    public const string TagPrefix = "slipway-egress:";

    private readonly string _bridge;
    private readonly IPAddress _gateway;
    private readonly int _port;
    private readonly string _tag;

    public BridgeFirewall(string bridge, IPAddress gateway, int port, string owner)
    {
        _bridge = bridge;
        _gateway = gateway;
        _port = port;
        _tag = TagPrefix + owner;
    }

    /// <summary>The comment on every rule this process installs.</summary>
    public string Tag => _tag;

    /// <summary>Installs the rules (removing this process's stale copies first); throws with iptables' message when it cannot.</summary>
    public async Task InstallAsync(CancellationToken ct)
    {
        await RemoveAsync(_tag);
        string[] tag = ["-m", "comment", "--comment", _tag];
        string[] fresh = ["-m", "conntrack", "--ctstate", "NEW"];
        await RunAsync("iptables", ["-w", "5", "-N", InputChain], ct, mustSucceed: false); // exists already: fine
        if (!(await RunAsync("iptables", ["-w", "5", "-C", InputChain, "-j", "DROP"], ct, mustSucceed: false)).Ok)
            await RunAsync("iptables", ["-w", "5", "-A", InputChain, "-j", "DROP"], ct, mustSucceed: true);
        await RunAsync("iptables", ["-w", "5", "-I", InputChain, "1", "-i", _bridge, "-p", "tcp", "-d", _gateway.ToString(), "--dport", _port.ToString(), .. tag, "-j", "ACCEPT"], ct, mustSucceed: true);
        await RunAsync("iptables", ["-w", "5", "-I", "INPUT", "1", "-i", _bridge, .. fresh, .. tag, "-j", InputChain], ct, mustSucceed: true);
        // DOCKER-USER is Docker's place for user rules: FORWARD jumps there before Docker's own accepts.
        await RunAsync("iptables", ["-w", "5", "-I", "DOCKER-USER", "1", "-i", _bridge, .. fresh, .. tag, "-j", "DROP"], ct, mustSucceed: true);
        if (File.Exists("/proc/net/if_inet6"))
        {
            await RunAsync("ip6tables", ["-w", "5", "-I", "INPUT", "1", "-i", _bridge, .. fresh, .. tag, "-j", "DROP"], ct, mustSucceed: false);
            await RunAsync("ip6tables", ["-w", "5", "-I", "FORWARD", "1", "-i", _bridge, .. fresh, .. tag, "-j", "DROP"], ct, mustSucceed: false);
        }
    }

    /// <summary>Removes this process's rules.</summary>
    public Task RemoveAsync() => RemoveAsync(_tag);

    /// <summary>Removes the rules of builder processes that are gone (killed before they could clean up).</summary>
    public static async Task RemoveAbandonedAsync(Func<string, bool> ownerIsAlive)
    {
        foreach (var tag in await TagsAsync())
            if (!ownerIsAlive(tag[TagPrefix.Length..]))
                await RemoveAsync(tag);
    }

    /// <summary>Every Slipway egress tag in the rules (tests check that none of theirs is left).</summary>
    public static async Task<IReadOnlySet<string>> TagsAsync()
    {
        var tags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (tool, chain) in Chains)
        {
            var (ok, listing) = await RunAsync(tool, ["-w", "5", "-S", chain], CancellationToken.None, mustSucceed: false);
            if (!ok) continue;
            foreach (var word in listing.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
                if (word.Trim('"').StartsWith(TagPrefix, StringComparison.Ordinal)) tags.Add(word.Trim('"'));
        }
        return tags;
    }

    private static readonly (string Tool, string Chain)[] Chains =
        [("iptables", "INPUT"), ("iptables", "DOCKER-USER"), ("iptables", InputChain), ("ip6tables", "INPUT"), ("ip6tables", "FORWARD")];

    private static async Task RemoveAsync(string tag)
    {
        foreach (var (tool, chain) in Chains)
        {
            var (ok, listing) = await RunAsync(tool, ["-w", "5", "-S", chain], CancellationToken.None, mustSucceed: false);
            if (!ok) continue;
            foreach (var line in listing.Split('\n'))
            {
                // -S prints the rule as it was added (the comment possibly quoted; ours has no spaces).
                var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('"')).ToArray();
                if (words is ["-A", var c, ..] && c == chain && words.Contains(tag))
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
