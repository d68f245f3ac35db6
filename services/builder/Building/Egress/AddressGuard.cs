using System.Net;
using System.Net.Sockets;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// Which resolved addresses the proxy may connect to: public unicast only, unless an operator allowed a private
/// network for an internal mirror. Checked after resolution, on the address actually dialled, so a listed name
/// that resolves to loopback, the host or a private range (DNS rebinding) is refused.
/// </summary>
public sealed class AddressGuard(IEnumerable<IPNetwork> allowedPrivate, IEnumerable<IPAddress> hostAddresses)
{
    private static readonly IPNetwork[] Special =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("2002::/16"),
    ];

    private readonly IPNetwork[] _allowedPrivate = [.. allowedPrivate];
    private readonly HashSet<IPAddress> _host = [.. hostAddresses.Select(Canonical)];

    /// <summary>The guard for this machine: its own interface addresses are never a mirror.</summary>
    public static AddressGuard ForThisHost(IEnumerable<string> allowedPrivateCidrs) => new(
        allowedPrivateCidrs.Select(c => IPNetwork.Parse(c)),
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address));

    /// <summary>Null when the address may be dialled, else why not.</summary>
    public string? Refusal(IPAddress address)
    {
        var a = Canonical(address);
        if (a.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return "not an IP address";
        if (_allowedPrivate.Any(n => n.Contains(a))) return null;
        if (_host.Contains(a)) return $"{a} is an address of the build host";
        if (a.Equals(IPAddress.Broadcast) || Special.Any(n => n.Contains(a))) return $"{a} is a loopback, private or special address";
        return null;
    }

    private static IPAddress Canonical(IPAddress a)
    {
        if (a.AddressFamily != AddressFamily.InterNetworkV6) return a;
        if (a.IsIPv4MappedToIPv6) return a.MapToIPv4();
        return a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()) : a;
    }
}
