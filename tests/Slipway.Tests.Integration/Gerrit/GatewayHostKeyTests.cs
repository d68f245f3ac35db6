using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Gerrit;

public sealed class GatewayHostKeyTests
{
    [Fact]
    public async Task A_server_whose_host_key_is_not_in_known_hosts_is_refused_loudly_and_the_gateway_stays_up()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        // A well-formed entry for the right host and port, with another key.
        var otherKey = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        await File.WriteAllTextAsync(env.KnownHostsPath, $"[127.0.0.1]:{env.Gerrit.SshPort} ssh-ed25519 {otherKey}\n");
        await env.Gerrit.CreateProjectAsync("demo/hello");

        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", TestInfrastructure.UniqueName("gw_"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!gateway.Output.Contains("REFUSING") && DateTime.UtcNow < deadline) await Task.Delay(200);

        Assert.Contains($"REFUSING 127.0.0.1:{env.Gerrit.SshPort}: host key ssh-ed25519 SHA256:", gateway.Output);
        Assert.Contains("is not in known_hosts. Check Gerrit:Ssh:KnownHostsPath.", gateway.Output);
        Assert.Equal(0, env.Gerrit.StreamConnections);
        Assert.False(gateway.HasExited);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.GetAsync("/healthz")).StatusCode);
    }
}
