using System.Net;
using Docker.DotNet.Models;
using Slipway.Builder.Building.Egress;

namespace Slipway.Tests.Unit.Builder;

/// <summary>
/// The bridge's gateway for the build egress proxy. dockerd 20.10's first start on a fresh machine answers the default
/// bridge's IPAM config without <c>Gateway</c> (seen: <c>[{"Subnet":"172.17.0.0/16"}]</c>); the demo's first build then
/// failed with "the engine's bridge network has no IPv4 gateway".
/// </summary>
public sealed class BridgeAddressTests
{
    private static readonly IPAddress[] Docker0 = [IPAddress.Parse("172.17.0.1"), IPAddress.Parse("fe80::42:d8ff:fe25:359e")];

    [Fact]
    public void The_gateway_of_the_ipam_config_is_used_when_given()
    {
        var address = BridgeAddress.From([new IPAMConfig { Subnet = "172.18.0.0/16", Gateway = "172.18.0.1" }], Docker0);
        Assert.Equal(new BridgeAddress(IPAddress.Parse("172.18.0.1"), IPNetwork.Parse("172.18.0.0/16")), address);
    }

    [Fact]
    public void Without_a_gateway_the_bridge_interfaces_address_in_the_subnet_is_the_gateway()
    {
        var address = BridgeAddress.From([new IPAMConfig { Subnet = "172.17.0.0/16" }], Docker0);
        Assert.Equal(new BridgeAddress(IPAddress.Parse("172.17.0.1"), IPNetwork.Parse("172.17.0.0/16")), address);
    }

    [Fact]
    public void An_ipv6_entry_is_skipped_for_the_ipv4_one()
    {
        var address = BridgeAddress.From(
            [new IPAMConfig { Subnet = "fd00::/64", Gateway = "fd00::1" }, new IPAMConfig { Subnet = "172.17.0.0/16" }], Docker0);
        Assert.Equal(IPAddress.Parse("172.17.0.1"), address?.Gateway);
    }

    [Theory]
    [InlineData("172.17.0.0/16", "10.0.0.1", "10.9.9.9")] // a gateway outside its subnet is not trusted, no interface address inside
    [InlineData("", "172.17.0.1", "172.17.0.1")]           // no subnet: nothing to confine the bridge to
    [InlineData("not-a-subnet", null, "172.17.0.1")]
    public void No_usable_address_gives_none(string subnet, string? gateway, string interfaceAddress)
    {
        Assert.Null(BridgeAddress.From([new IPAMConfig { Subnet = subnet, Gateway = gateway }], [IPAddress.Parse(interfaceAddress)]));
    }

    [Fact]
    public void A_network_without_any_address_is_refused_with_a_message_naming_it()
    {
        var network = new NetworkResponse { Name = "bridge", IPAM = new IPAM { Config = [new IPAMConfig { Subnet = "192.0.2.0/24" }] } };
        var e = Assert.Throws<InvalidOperationException>(() => BridgeAddress.Of(network, "no-such-bridge0"));
        Assert.Contains("bridge network (bridge no-such-bridge0) has no IPv4 gateway", e.Message);
        Assert.Contains("192.0.2.0/24", e.Message);
    }
}
