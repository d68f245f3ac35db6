using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Docker.DotNet.Models;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// The IPv4 gateway and subnet of an engine's bridge network. dockerd 20.10 leaves <c>Gateway</c> out of the default
/// bridge's IPAM config when it created the bridge itself (the first start on a fresh machine: no <c>docker0</c> yet,
/// an empty <c>/var/lib/docker</c>); it shows it only on later starts. The gateway is then the bridge interface's own
/// IPv4 address inside the subnet (dockerd assigns it there), read from this host's interfaces: the builder already
/// shares the engine's host, as its firewall rules on the bridge do.
/// </summary>
public sealed record BridgeAddress(IPAddress Gateway, IPNetwork Subnet)
{
    /// <summary>Reads the address from the network's IPAM config, else from the bridge interface of this host.</summary>
    public static BridgeAddress Of(NetworkResponse network, string bridgeName) =>
        From(network.IPAM?.Config ?? [], InterfaceAddresses(bridgeName))
        ?? throw new InvalidOperationException(
            $"the engine's {network.Name} network (bridge {bridgeName}) has no IPv4 gateway in its IPAM config, and no IPv4 address of " +
            $"{bridgeName} on this host lies in its subnet ({string.Join(", ", (network.IPAM?.Config ?? []).Select(c => c.Subnet))})");

    /// <summary>The first IPAM entry with an IPv4 subnet: its gateway when given, else the interface address in that subnet.</summary>
    public static BridgeAddress? From(IEnumerable<IPAMConfig> configs, IEnumerable<IPAddress> interfaceAddresses)
    {
        var addresses = interfaceAddresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToList();
        foreach (var config in configs)
        {
            if (!IPNetwork.TryParse(config.Subnet ?? "", out var subnet) || subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork) continue;
            if (IPAddress.TryParse(config.Gateway ?? "", out var gateway) && gateway.AddressFamily == AddressFamily.InterNetwork && subnet.Contains(gateway))
                return new BridgeAddress(gateway, subnet);
            if (addresses.FirstOrDefault(subnet.Contains) is { } own)
                return new BridgeAddress(own, subnet);
        }
        return null;
    }

    private static IEnumerable<IPAddress> InterfaceAddresses(string bridgeName) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.Name == bridgeName)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address);
}
