using Slipway.Hosting;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// Configuration section <c>Builder:Egress</c>: how build steps reach the package mirrors and nothing else.
/// Steps that install packages run on the engine's default bridge (the only network dockerd's BuildKit offers besides
/// none and host), confined by firewall rules so that the builder's allow-list proxy is their only way out; builds
/// that install nothing run with network <c>none</c>.
/// </summary>
public sealed class BuildEgressOptions : IValidatableOptions
{
    public const string Section = "Builder:Egress";

    /// <summary>When false, builds use <c>Builder:Network</c> as before (no allow-list: only for trusted sources).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Mirror base URLs build steps may fetch from, e.g. <c>http://deb.debian.org/debian</c>,
    /// <c>https://registry.npmjs.org/</c>, <c>https://pypi.org/simple</c>, <c>https://files.pythonhosted.org</c>.
    /// Only the exact host and port of each is allowed (CONNECT for https, absolute-URI GET/HEAD for http).
    /// </summary>
    public List<string> AllowedUrls { get; set; } = [];

    /// <summary>Also allow the apt mirrors of the machine the builder runs on (<c>/etc/apt/sources.list{,.d/*}</c>).</summary>
    public bool UseMachineAptSources { get; set; } = true;

    /// <summary>Where the machine's apt sources are read from (tests point this elsewhere).</summary>
    public string AptConfigDir { get; set; } = "/etc/apt";

    /// <summary>
    /// Private networks (CIDR) an allowed mirror may resolve to, for an organisation's internal mirror. By default
    /// an allowed name that resolves to a loopback, private, link-local or otherwise special address is refused.
    /// </summary>
    public List<string> AllowedPrivateNetworks { get; set; } = [];

    /// <summary>Port of the proxy on the default bridge's gateway address; 0 picks a free one.</summary>
    public int ProxyPort { get; set; }

    /// <summary>Connections the proxy serves at once; more are refused with 503.</summary>
    public int MaxConnections { get; set; } = 64;

    public int ConnectTimeoutSeconds { get; set; } = 15;

    /// <summary>A tunnel or download with no bytes in either direction for this long is closed.</summary>
    public int IdleTimeoutSeconds { get; set; } = 120;

    /// <summary>Longest life of one proxied connection.</summary>
    public int MaxConnectionSeconds { get; set; } = 3600;

    /// <summary>
    /// Confine the engine's default bridge (<see cref="BridgeFirewall"/>: iptables INPUT and DOCKER-USER rules; needs root
    /// or CAP_NET_ADMIN in the engine host's network namespace): a new connection from it reaches only the proxy.
    /// Without it, steps that install packages reach everything the bridge reaches (the host, the internet): turn it
    /// off only for trusted sources. While it is on, every container on the default bridge is confined the same way.
    /// </summary>
    public bool GuardHost { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < AllowedUrls.Count; i++)
            if (EgressAllowList.ParseUrl(AllowedUrls[i]) is null)
                yield return $"Builder:Egress:AllowedUrls:{i} '{AllowedUrls[i]}' is not an http or https URL with a host";
        for (var i = 0; i < AllowedPrivateNetworks.Count; i++)
            if (!System.Net.IPNetwork.TryParse(AllowedPrivateNetworks[i], out _))
                yield return $"Builder:Egress:AllowedPrivateNetworks:{i} '{AllowedPrivateNetworks[i]}' is not a CIDR network";
        if (ProxyPort is < 0 or > 65535) yield return "Builder:Egress:ProxyPort must be between 0 and 65535";
        if (MaxConnections is < 1 or > 10000) yield return "Builder:Egress:MaxConnections must be between 1 and 10000";
        if (ConnectTimeoutSeconds is < 1 or > 300) yield return "Builder:Egress:ConnectTimeoutSeconds must be between 1 and 300";
        if (IdleTimeoutSeconds is < 1 or > 3600) yield return "Builder:Egress:IdleTimeoutSeconds must be between 1 and 3600";
        if (MaxConnectionSeconds is < 1 or > 86400) yield return "Builder:Egress:MaxConnectionSeconds must be between 1 and 86400";
    }
}
